// The bindings test/support/workerd-pool.ts gives the workerd project.
declare namespace Cloudflare {
  interface Env {
    NODE_ENV: string;
    API_KEY: string;
    DATABASE_URL: string;
    NEON_WS_PROXY: string;
    NEON_WS_SECURE: string;
    /** The Durable Object per inbox, from wrangler.toml. */
    INBOX: DurableObjectNamespace;
    /** The local proxy's SQL-over-HTTP endpoint, for the target that sends statements over HTTP. */
    TEST_NEON_HTTP_ENDPOINT: string;
    /**
     * The deploy bundle, running as its own Worker with wrangler.toml's compatibility settings.
     * workerd's service bindings can fire its Cron handler; the published types leave that out.
     */
    BUNDLE: Fetcher & { scheduled(options: { cron: string; scheduledTime?: Date }): Promise<unknown> };
  }
}
