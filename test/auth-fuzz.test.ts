import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { firstRow } from '../src/db/database.js';
import { hmacHeaders, hs256, JWT_SECRET } from './support/credentials.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

const ROUNDS = 1000;
// Printed on failure, and settable, so any failing run can be replayed exactly.
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let relay: TestRelay;
let agent: Agent;
let other: Agent;
beforeAll(async () => {
  relay = await startTestRelay({ JWT_SECRET });
  agent = await relay.registerAgent('fuzz.target');
  other = await relay.registerAgent('fuzz.other');
});
afterAll(() => relay.close());

/** mulberry32: small, fast and seedable. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  // Header values may hold visible ASCII, space, tab and Latin-1; fetch refuses anything else.
  const char = (): number => {
    const kind = int(3);
    return kind === 0 ? 0x20 + int(95) : kind === 1 ? 0xa0 + int(96) : 9;
  };
  const text = (max: number) => String.fromCharCode(...Array.from({ length: int(max + 1) }, char));
  const b64url = (bytes: number) =>
    Buffer.from(Array.from({ length: bytes }, () => int(256))).toString('base64url');
  return { next, int, pick, text, b64url };
}

type Headers = Record<string, string>;

async function malformedCredentials(
  r: ReturnType<typeof prng>,
  validJwt: string,
  otherJwt: string,
): Promise<Headers> {
  const now = Math.floor(Date.now() / 1000);
  const mutate = (s: string, from = 0, to = s.length) => {
    const i = from + r.int(Math.max(1, to - from));
    const c = s[i] === 'A' ? 'B' : 'A';
    return `${s.slice(0, i)}${c}${s.slice(i + 1)}`;
  };
  const jwtPart = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const kinds: (() => Headers | Promise<Headers>)[] = [
    () => ({ authorization: r.text(300) }),
    () => ({ authorization: `Bearer ${r.text(200)}` }),
    () => ({ authorization: `${r.pick(['Basic', 'bearer', 'Token', 'Bearer', ''])} ${r.b64url(r.int(60))}` }),
    () => ({ authorization: `Bearer admp_${r.b64url(8).slice(0, 16)}_${r.b64url(32)}` }),
    () => ({ authorization: `Bearer ${'x'.repeat(4097 + r.int(3000))}` }),
    () => ({ authorization: `Bearer ${r.b64url(r.int(40))}.${r.b64url(r.int(200))}.${r.b64url(r.int(80))}` }),
    () => {
      const header = {
        alg: r.pick(['none', 'HS256', 'RS256', 'EdDSA', 'ES256', 'HS512', r.text(10)]),
        typ: 'JWT',
      };
      const claims = {
        sub: r.pick([agent.id, other.id, r.text(20), 42, null]),
        exp: r.pick([now - r.int(10_000), now + r.int(10_000), 'soon', 1e308, -1]),
        ...(r.next() < 0.5
          ? { permissions: r.pick([['admin'], 'admin', [1, 2], {}, ['send', 'pull']]) }
          : {}),
      };
      return {
        authorization: `Bearer ${jwtPart(header)}.${jwtPart(claims)}.${r.b64url(r.pick([0, 32, 64, 256]))}`,
      };
    },
    () => {
      const [h, p, s] = validJwt.split('.') as [string, string, string];
      const part = r.int(3);
      // The last character of a signature may carry unused bits, so it is never the one changed.
      const token = [
        part === 0 ? mutate(h) : h,
        part === 1 ? mutate(p) : p,
        part === 2 ? mutate(s, 0, s.length - 1) : s,
      ];
      return { authorization: `Bearer ${token.join('.')}` };
    },
    () => ({ authorization: `Bearer ${validJwt.slice(0, r.int(validJwt.length - 1))}` }),
    () => ({ authorization: `Bearer ${otherJwt}` }),
    async () => ({ authorization: `Bearer ${await hs256(agent.id, { exp: now - 31 - r.int(100_000) })}` }),
    () => ({ ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'), 'x-signature': r.text(80) }),
    () => ({ ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'), 'x-signature': r.b64url(32) }),
    () => ({
      ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'),
      'x-signature': Buffer.from(r.b64url(32), 'base64url').toString('hex'),
    }),
    () => ({
      ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'),
      'x-timestamp': r.pick([
        r.text(12),
        String(now - 301 - r.int(1e6)),
        String(now + 301 + r.int(1e6)),
        '',
        '-1',
        '1e9',
      ]),
    }),
    () => ({
      ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'),
      'x-agent-id': r.pick([r.text(30), 'fuzz.ghost', '', 'a'.repeat(200)]),
    }),
    () => {
      const h = hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/');
      const drop = r.pick(['x-agent-id', 'x-timestamp', 'x-signature']);
      return Object.fromEntries(Object.entries(h).filter(([k]) => k !== drop));
    },
    () => ({
      ...hmacHeaders(agent.hmacSecret, agent.id, 'GET', '/'),
      authorization: `Bearer ${agent.apiKey}`,
    }),
  ];
  return r.pick(kinds)();
}

it('answers 1,000 malformed Authorization, X-Signature and JWT values with 401 or 403, never 5xx, and audits each', async () => {
  const r = prng(SEED);
  const validJwt = await hs256(agent.id, { exp: Math.floor(Date.now() / 1000) + 3600 });
  // Well-formed and valid, but for another agent: the target routes below must answer 403.
  const otherJwt = await hs256(other.id, { exp: Math.floor(Date.now() / 1000) + 3600 });
  const routes = [
    ['GET', `/v1/agents/${agent.id}/inbox/stats`],
    ['POST', `/v1/agents/${agent.id}/inbox/pull`],
    ['GET', `/v1/agents/${agent.id}`],
    ['POST', `/v1/agents/${agent.id}/messages`],
  ] as const;
  for (let i = 0; i < ROUNDS; i++) {
    const headers = await malformedCredentials(r, validJwt, otherJwt);
    const [method, path] = r.pick(routes);
    const body = method === 'POST' && path.endsWith('/messages') ? envelope(agent.id, agent.id) : undefined;
    const reply = await relay.call(method, path, { token: null, headers, ...(body ? { body } : {}) });
    if (reply.status !== 401 && reply.status !== 403) {
      throw new Error(
        `round ${i} (seed ${SEED}): ${method} ${path} with ${JSON.stringify(headers).slice(0, 300)} → ${reply.status} ${JSON.stringify(reply.body)}`,
      );
    }
  }

  await relay.deps.audit.flush();
  const audited = await firstRow<{ n: number }>(
    relay.db,
    sql`select count(*)::int as n from audit_log where event = 'auth.failure'`,
  );
  expect(audited?.n, `seed ${SEED}`).toBe(ROUNDS);
  const counted = (await relay.metrics()).sum('admp_auth_failures_total');
  expect(counted, `seed ${SEED}`).toBe(ROUNDS);
});
