import { CliError, type Command } from '../command.js';
import { generateKeyPair, isPublicKey } from '../signing.js';

const agentPath = (id: string) => `/v1/agents/${encodeURIComponent(id)}`;

export const keyCommands: Command[] = [
  {
    name: 'keys issue',
    summary: 'Issue another API key for an agent; prints it once (key rotation: issue, deploy, revoke)',
    args: ['<agent_id>'],
    remote: true,
    options: { tier: { type: 'string', value: 'tier', description: 'the key’s rate-limit tier' } },
    async run(c) {
      const tier = c.values.tier as string | undefined;
      const r = await c
        .relay()
        .call('POST', `${agentPath(c.args[0] as string)}/api-keys`, { body: tier ? { tier } : {} });
      c.out(JSON.stringify(r.body, null, 2));
    },
  },
  {
    name: 'keys revoke',
    summary: 'Revoke an agent’s API key by its key_id',
    args: ['<agent_id>', '<key_id>'],
    remote: true,
    async run(c) {
      const [agentId, keyId] = c.args as [string, string];
      await c.relay().call('DELETE', `${agentPath(agentId)}/api-keys/${encodeURIComponent(keyId)}`);
      c.out(`revoked ${keyId}`);
    },
  },
  {
    name: 'keys generate',
    summary: 'Make an Ed25519 key pair for signing envelopes, locally (nothing is sent)',
    options: { json: { type: 'boolean', description: 'print {private_key, public_key} as JSON' } },
    details:
      'Keep private_key secret; register public_key with `admp keys add <agent_id> <kid> <public_key>`,\n' +
      'then sign with `admp send --kid <kid> --signing-key <private_key>` (or ADMP_SIGNING_KEY).\n' +
      'Both are standard base64 of the raw 32 bytes, as the relay and the SDKs take them.',
    async run(c) {
      const pair = generateKeyPair();
      if (c.values.json) return c.out(JSON.stringify(pair, null, 2));
      c.out(`private_key ${pair.private_key}\npublic_key  ${pair.public_key}`);
    },
  },
  {
    name: 'keys add',
    summary: 'Register an Ed25519 public key under a kid, for verifying the agent’s signed envelopes',
    args: ['<agent_id>', '<kid>', '<public_key>'],
    remote: true,
    async run(c) {
      const [agentId, kid, publicKey] = c.args as [string, string, string];
      if (!isPublicKey(publicKey)) {
        throw new CliError('<public_key> must be 32 bytes in standard base64 (see admp keys generate)', 2);
      }
      await c.relay().call('POST', `${agentPath(agentId)}/keys`, { body: { kid, public_key: publicKey } });
      c.out(`added ${kid}`);
    },
  },
  {
    name: 'keys remove',
    summary: 'Revoke a signing key: envelopes signed with its kid are refused from now on',
    args: ['<agent_id>', '<kid>'],
    remote: true,
    async run(c) {
      const [agentId, kid] = c.args as [string, string];
      await c.relay().call('DELETE', `${agentPath(agentId)}/keys/${encodeURIComponent(kid)}`);
      c.out(`removed ${kid}`);
    },
  },
];
