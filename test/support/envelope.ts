/** A valid envelope from one agent to another, fresh id and timestamp; `overrides` replace any field. */
export function envelope(from: string, to: string, overrides: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    id: crypto.randomUUID(),
    type: 'task.request',
    from: `agent://${from}`,
    to: `agent://${to}`,
    subject: 'create_user',
    body: { email: 'user@example.com' },
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
