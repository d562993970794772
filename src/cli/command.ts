import { parseArgs } from 'node:util';
import { RelayClient } from './relay-client.js';

/** A problem the user can fix; printed as one line, exit code 1 (2 for a usage mistake). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help; `<value>` names what a string option takes. */
  description: string;
  value?: string;
  multiple?: boolean;
}

export interface Command {
  /** One or two words: `send`, `agents create`. */
  name: string;
  summary: string;
  /** Positional arguments, as shown in the usage line: `<agent_id>`, `[file]`. */
  args?: string[];
  /** Extra help, after the options. */
  details?: string;
  options?: Record<string, OptionSpec>;
  /** Whether the command talks to a relay (and so takes --url, --api-key, --agent). */
  remote?: boolean;
  run(context: Context): Promise<void>;
}

export interface Context {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  /** The relay named by --url / ADMP_URL, with --api-key / ADMP_API_KEY. */
  relay(): RelayClient;
  /** --agent / ADMP_AGENT_ID, or a usage error naming the command. */
  agent(): string;
  out(text: string): void;
  /** Progress and notices: stderr, so stdout stays clean for pipes. */
  note(text: string): void;
  env: Record<string, string | undefined>;
  /** The text of a file named on the command line, or of standard input for `-`. */
  readText(path: string): string;
  /** Ctrl-C: `handler` runs and the command ends with exit code 0, as a finished one does. */
  onInterrupt(handler: () => void): void;
}

export const REMOTE_OPTIONS: Record<string, OptionSpec> = {
  url: {
    type: 'string',
    value: 'url',
    description: 'the relay (env ADMP_URL; default http://localhost:3030)',
  },
  'api-key': { type: 'string', value: 'key', description: 'API key or admin key (env ADMP_API_KEY)' },
  agent: { type: 'string', value: 'id', description: 'the agent to act as (env ADMP_AGENT_ID)' },
};

const HELP: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export function optionsOf(command: Command): Record<string, OptionSpec> {
  return { ...command.options, ...(command.remote ? REMOTE_OPTIONS : {}), ...HELP };
}

export function helpText(command: Command): string {
  const options = optionsOf(command);
  const usage = `admp ${command.name}${command.args?.length ? ` ${command.args.join(' ')}` : ''} [options]`;
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` <${spec.value}>` : ''}`;
    return `  ${flag.padEnd(34)} ${spec.description}`;
  });
  return [
    `${command.summary}\n`,
    `Usage: ${usage}\n`,
    'Options:',
    ...rows,
    ...(command.details ? ['', command.details] : []),
    '',
  ].join('\n');
}

/** What a command line meets of the outside world: the process's in bin/admp.js, a test's in process. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  readText(path: string): string;
  onInterrupt(handler: () => void): void;
}

/** Parses `argv` (after the command words) for `command`; throws a usage CliError on bad input. */
export function contextFor(command: Command, argv: string[], io: Io): Context | 'help' {
  const options = optionsOf(command);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(options).map(([name, { type, short, multiple }]) => [
          name,
          { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message} (see admp ${command.name} --help)`, 2);
  }
  if (parsed.values.help) return 'help';
  const required = (command.args ?? []).filter((a) => a.startsWith('<')).length;
  const allowed = (command.args ?? []).some((a) => a.endsWith('...]') || a.endsWith('...>'))
    ? Number.POSITIVE_INFINITY
    : (command.args ?? []).length;
  if (parsed.positionals.length < required || parsed.positionals.length > allowed) {
    const expected = command.args?.join(' ') || 'no arguments';
    throw new CliError(`admp ${command.name} takes ${expected} (see admp ${command.name} --help)`, 2);
  }
  const values = parsed.values as Context['values'];
  const pick = (flag: string, env: string) =>
    (values[flag] as string | undefined) ?? io.env[env] ?? undefined;
  let client: RelayClient | undefined;
  return {
    args: parsed.positionals,
    values,
    env: io.env,
    relay: () => {
      client ??= new RelayClient(
        pick('url', 'ADMP_URL') ?? 'http://localhost:3030',
        pick('api-key', 'ADMP_API_KEY'),
      );
      return client;
    },
    agent: () => {
      const agent = pick('agent', 'ADMP_AGENT_ID');
      if (!agent) throw new CliError(`admp ${command.name} needs --agent <id> or ADMP_AGENT_ID`, 2);
      return agent;
    },
    out: (text) => io.stdout(`${text}\n`),
    note: (text) => io.stderr(`${text}\n`),
    readText: io.readText,
    onInterrupt: io.onInterrupt,
  };
}

/** A whole number from a flag, or a usage error naming the flag. */
export function intOption(values: Context['values'], name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--${name} must be a whole number, got ${raw}`, 2);
  return n;
}
