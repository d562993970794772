import type { Command } from '../command.js';

// Flags for the settings people change most; every other setting is read from the environment
// exactly as `npm start` reads it (README: Configuration).
const FLAGS: Record<string, string> = {
  port: 'PORT',
  'database-url': 'DATABASE_URL',
  'data-dir': 'ADMP_DATA_DIR',
  'admin-key': 'API_KEY',
  'policy-file': 'POLICY_FILE',
  'log-level': 'LOG_LEVEL',
};

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the relay in this process, as `npm start` does',
  options: {
    port: { type: 'string', value: 'port', description: 'HTTP port (env PORT; default 3030)' },
    'database-url': {
      type: 'string',
      value: 'url',
      description: 'postgres://… (env DATABASE_URL; default embedded)',
    },
    'data-dir': {
      type: 'string',
      value: 'dir',
      description: 'embedded PostgreSQL’s directory (env ADMP_DATA_DIR)',
    },
    'admin-key': {
      type: 'string',
      value: 'key',
      description: 'the admin key (env API_KEY; dev-admin-key in development)',
    },
    'policy-file': {
      type: 'string',
      value: 'path',
      description: 'tiers and policies, YAML (env POLICY_FILE)',
    },
    'log-level': {
      type: 'string',
      value: 'level',
      description: 'debug | info | warn | error | silent (env LOG_LEVEL)',
    },
  },
  details:
    'Flags override the environment. Migrations run on start; SIGTERM or Ctrl-C finishes in-flight\n' +
    'requests and stops. A bad setting stops the relay at once, naming every offending variable.',
  async run(c) {
    for (const [flag, variable] of Object.entries(FLAGS)) {
      const value = c.values[flag];
      if (typeof value === 'string') process.env[variable] = value;
    }
    const database = process.env.DATABASE_URL
      ? 'PostgreSQL from DATABASE_URL'
      : `embedded PostgreSQL in ${process.env.ADMP_DATA_DIR || './.admp/data'}`;
    c.note(`starting the ADMP relay on ${database}; migrating, then listening…`);
    // The Node entry starts the relay when loaded, reading the environment set above.
    await import('../../entry/node.js');
  },
};
