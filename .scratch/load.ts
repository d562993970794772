import http from 'node:http';
const url = new URL(process.argv[2] as string);
const N = Number(process.argv[3] ?? 3000);
const C = 8;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: url.hostname, port: url.port, path, method, agent,
      headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { const t = Buffer.concat(chunks).toString(); resolve({ status: res.statusCode ?? 0, body: t ? JSON.parse(t) : null }); });
    });
    req.on('error', reject);
    req.end(data);
  });
}
const admin = 'bench-admin-key-0123456789';
const suffix = Math.random().toString(36).slice(2, 8);
const reg = async (id: string) => (await call('POST', '/v1/agents', admin, { agent_id: id, tier: 'unlimited' })).body.api_key as string;
const p = `p-${suffix}`; const c = `c-${suffix}`;
const pk = await reg(p); const ck = await reg(c);
let sent = 0; let acked = 0;
const t0 = performance.now();
const producers = Array.from({ length: C }, async () => {
  while (sent < N) {
    sent++;
    const r = await call('POST', `/v1/agents/${c}/messages`, pk, { id: crypto.randomUUID(), type: 'task.request', from: `agent://${p}`, to: `agent://${c}`, subject: 'work', body: { payload: 'x'.repeat(150) }, timestamp: new Date().toISOString() });
    if (r.status !== 201) throw new Error(JSON.stringify(r));
  }
});
const consumers = Array.from({ length: C }, async () => {
  while (acked < N) {
    const r = await call('POST', `/v1/agents/${c}/inbox/pull?wait=1`, ck);
    if (r.status === 204) continue;
    const a = await call('POST', `/v1/agents/${c}/messages/${r.body.id}/ack?lease_id=${r.body.lease_id}`, ck);
    if (a.status !== 200) throw new Error(JSON.stringify(a));
    acked++;
  }
});
await Promise.all([...producers, ...consumers]);
const s = (performance.now() - t0) / 1000;
console.log(`${N} messages in ${s.toFixed(2)} s = ${(N / s).toFixed(0)} msg/s`);
process.exit(0);
