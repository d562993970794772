import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admpInProcess } from '../../test/support/admp-cli.js';
import { VERSION } from '../version.js';

// A relay nobody listens on: every case here must fail before its first request.
const NOWHERE = { ADMP_URL: 'http://127.0.0.1:9', ADMP_AGENT_ID: 'alice', ADMP_API_KEY: 'k' };
const FILES: Record<string, string> = {
  'list.json': '[1, 2]',
  'not-json.ndjson': '{"to":"bob","subject":"a"}\n{to: bob}\n',
  'array-body.ndjson': '{"to":"bob","subject":"a","body":[1]}\n',
  'no-id.ndjson': '{"lease_id":"l"}\n',
  'empty.ndjson': '\n\n',
};
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'admp-cli-unit-'));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const admp = (args: string[], env: Record<string, string> = NOWHERE) => admpInProcess(args, env, dir);

describe('the command line', () => {
  it('prints the overview (exit 2 with no command, 0 for --help) and the version', async () => {
    const bare = await admp([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Usage: admp <command> [options]');
    expect((await admp(['help'])).code).toBe(0);
    expect(await admp(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('names the subcommands of a group given alone, and refuses an unknown command', async () => {
    expect(await admp(['agents'])).toMatchObject({
      code: 2,
      stderr: 'admp agents needs a subcommand: create, list, delete\n',
    });
    expect(await admp(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: 'admp: unknown command frobnicate (see admp --help)\n',
    });
  });

  // Each: the arguments, and the one line on stderr; all exit 2 (a mistake in the command line).
  const mistakes: [string[], string][] = [
    [['send', 'x', '--nope'], "admp: Unknown option '--nope'. "],
    [['ack', 'a', 'b', 'c'], 'admp: admp ack takes [message_id] (see admp ack --help)'],
    [['send'], 'admp: admp send needs <to> (or --batch <path>)'],
    [['send', 'bob'], 'admp: admp send needs --subject <text>'],
    [['send', 'bob', '--subject', 's', '--type', 'nope'], 'admp: --type must be one of '],
    [
      ['send', 'bob', '--subject', 's', '--body', '{}', '--body-file', 'b.json'],
      'admp: give --body or --body-file, not both',
    ],
    [
      ['send', 'bob', '--subject', 's', '--body-file', 'missing.json'],
      'admp: cannot read --body-file missing.json: ENOENT',
    ],
    [
      ['send', 'bob', '--subject', 's', '--body-file', 'list.json'],
      'admp: --body-file must be a JSON object',
    ],
    [
      ['send', 'bob', '--subject', 's', '--header', 'novalue'],
      'admp: --header takes name=value, got novalue',
    ],
    [['send', 'bob', '--subject', 's', '--ttl=-1'], 'admp: --ttl must be a whole number, got -1'],
    [['send', 'bob', '--batch', '-'], 'admp: give <to> or --batch, not both'],
    [['send', '--batch', 'missing.ndjson'], 'admp: cannot read --batch missing.ndjson: ENOENT'],
    [['send', '--batch', 'not-json.ndjson'], 'admp: not-json.ndjson line 2: not JSON: '],
    [['send', '--batch', 'array-body.ndjson'], 'admp: array-body.ndjson line 1: body must be a JSON object'],
    [['ack', '--batch', 'no-id.ndjson'], 'admp: no-id.ndjson line 1: no id or message_id'],
    [['pull', '--wait', 'soon'], 'admp: --wait must be a whole number, got soon'],
  ];
  it.each(mistakes)('refuses %j with exit 2 and one line', async (args, line) => {
    const run = await admp(args);
    expect(run.code).toBe(2);
    expect(run.stderr.startsWith(line), run.stderr).toBe(true);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('asks for the agent and a relay URL it can use', async () => {
    expect(await admp(['stats'], { ADMP_URL: 'http://127.0.0.1:9' })).toMatchObject({
      code: 2,
      stderr: 'admp: admp stats needs --agent <id> or ADMP_AGENT_ID\n',
    });
    expect(await admp(['stats', '--url', 'ftp://relay'], NOWHERE)).toMatchObject({
      code: 2,
      stderr: 'admp: --url must start with http:// or https://, got ftp://relay\n',
    });
  });

  it('sends and acks nothing for an empty batch, and says so', async () => {
    expect(await admp(['send', '--batch', 'empty.ndjson'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'nothing to send\n',
    });
    expect(await admp(['ack', '--batch', 'empty.ndjson'])).toEqual({
      code: 0,
      stdout: '',
      stderr: 'nothing to ack\n',
    });
  });
});
