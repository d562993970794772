// What test/support/global-workers.ts hands the workerd project; free of Node imports so that
// both the Node side and the workerd side of the suite can type against it.

export interface WorkerBundle {
  scriptPath: string;
  bytes: number;
  gzipBytes: number;
}

export interface WranglerSettings {
  compatibilityDate: string;
  compatibilityFlags: string[];
  crons: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    workersDatabaseUrl: string;
    neonWsProxy: string;
    neonHttpEndpoint: string;
    workerBundle: WorkerBundle;
    wrangler: WranglerSettings;
  }
}
