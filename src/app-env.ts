import type { Principal } from './auth/principal.js';

/** Per-request values Hono carries between middleware and handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
