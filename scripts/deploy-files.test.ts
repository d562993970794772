/**
 * Static checks of deploy/Dockerfile and deploy/docker-compose.yml (Docker cannot run in CI):
 * both linters, then what this project promises of its image and its compose file.
 * test/process/docker-start.test.ts runs the container's command itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { interpolate, readCompose, readDockerfile } from '../test/support/deploy-files.js';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('deploy/Dockerfile', () => {
  const image = readDockerfile();

  it('has no problems dockerfile-utils can find', () => {
    expect(validate(read('deploy/Dockerfile')).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual(
      [],
    );
  });

  it('builds in stages and runs as a user other than root', () => {
    expect(image.froms.length).toBeGreaterThanOrEqual(2);
    expect(image.user).toBeDefined();
    expect(['root', '0']).not.toContain(image.user?.split(':')[0]);
    // The user switch comes after the last RUN that needs root (mkdir/chown of the data dir).
    const keywords = image.instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeGreaterThan(keywords.lastIndexOf('RUN'));
  });

  it('runs `npm start`’s command in exec form, so SIGTERM reaches node', () => {
    // `npm start` execs it too, so that npm's shell does not stand between npm and node.
    const start = JSON.parse(read('package.json')).scripts.start as string;
    expect(start).toMatch(/^exec /);
    expect(image.command.join(' ')).toBe(start.replace(/^exec /, ''));
  });

  it('compiles in a build stage and copies only its output, dist/, into the runtime', () => {
    const build = image.stages.find((s) => s.name === 'build');
    expect(build?.runs).toContain('npm run build');
    expect(image.stages.at(-1)?.stageCopies).toContainEqual({
      from: 'build',
      sources: ['/app/dist'],
      dest: './dist',
    });
    expect(image.contextCopies).not.toContain('src');
  });

  it('copies every file the start command needs from the build context', () => {
    for (const stage of image.stages) {
      for (const source of stage.contextCopies) expect(existsSync(new URL(source, root)), source).toBe(true);
    }
    expect(image.contextCopies).toEqual(expect.arrayContaining(['package.json', 'drizzle', 'policies']));
  });

  it('checks its own health on /health and carries the OCI labels', () => {
    const check = image.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    expect(check?.args).toContain('/health');
    for (const label of ['title', 'description', 'version', 'licenses']) {
      expect(image.labels[`org.opencontainers.image.${label}`], label).toBeTruthy();
    }
    expect(image.env).toMatchObject({ NODE_ENV: 'production', PORT: '3030' });
  });
});

describe('deploy/docker-compose.yml', () => {
  const compose = readCompose();
  const { postgres, relay } = compose.services;

  it('passes dclint without errors or warnings', () => {
    // Throws, printing dclint's report, on any problem: schema errors and style rules alike.
    execFileSync('node_modules/.bin/dclint', ['--max-warnings', '0', 'deploy/docker-compose.yml'], {
      cwd: root,
      encoding: 'utf8',
    });
  });

  it('runs PostgreSQL 16 initialised with deploy/init-db.sql, on a named volume', () => {
    expect(postgres?.image).toMatch(/^postgres:16(\.|-|$)/);
    expect(postgres?.volumes).toContain('./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql:ro');
    const named = (postgres?.volumes ?? []).map((v) => v.split(':')[0]).filter((v) => !v?.startsWith('.'));
    expect(named.length).toBe(1);
    expect(Object.keys(compose.volumes ?? {})).toContain(named[0]);
    expect(postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
  });

  it('builds the relay from deploy/Dockerfile and starts it once PostgreSQL is healthy', () => {
    expect(relay?.build?.dockerfile).toBe('deploy/Dockerfile');
    expect(relay?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(relay?.ports).toEqual(['127.0.0.1:3030:3030']);
    expect(relay?.healthcheck?.test.join(' ')).toContain('/health');
  });

  it('puts both services on one declared network', () => {
    const networks = Object.keys(compose.networks ?? {});
    expect(networks.length).toBe(1);
    expect(postgres?.networks).toEqual(networks);
    expect(relay?.networks).toEqual(networks);
  });

  it('takes API_KEY from the environment and refuses to start without it', () => {
    const env = relay?.environment ?? {};
    const shell = { API_KEY: 'an-admin-key-of-16+' };
    expect(interpolate(String(env.API_KEY), shell)).toBe(shell.API_KEY);
    expect(() => interpolate(String(env.API_KEY), {})).toThrow(/API_KEY/);
    expect(interpolate(String(env.DATABASE_URL), shell)).toBe('postgres://admp:admp@postgres:5432/admp');
    expect(env.NODE_ENV).toBe('production');
  });
});
