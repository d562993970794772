/** Reads deploy/Dockerfile and deploy/docker-compose.yml the way Docker would, for the tests. */
import { readFileSync } from 'node:fs';
import { type Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** One stage's file work: what it copies from the build context and other stages, what it runs. */
export interface Stage {
  name: string | undefined;
  workdir: string | undefined;
  /** COPY sources that come from the build context, not from another stage. */
  contextCopies: string[];
  /** COPY --from=<stage> sources (absolute paths in that stage) and where they land. */
  stageCopies: { from: string; sources: string[]; dest: string }[];
  /** RUN commands in shell form, in order. */
  runs: string[];
}

export interface RuntimeStage {
  /** Every FROM in the file, in order (more than one: a multi-stage build). */
  froms: string[];
  /** Every stage, in order; the last is the one described by the fields below. */
  stages: Stage[];
  /** The final stage's instructions, as keyword and raw argument text. */
  instructions: { keyword: string; args: string }[];
  /** ENV of the final stage, in order; later ones win, as in Docker. */
  env: Record<string, string>;
  labels: Record<string, string>;
  /** ENTRYPOINT followed by CMD, exec form only (shell form would put a shell in front of node). */
  command: string[];
  user: string | undefined;
  workdir: string | undefined;
  /** COPY sources of the final stage that come from the build context, not from another stage. */
  contextCopies: string[];
}

const unquote = (value: string) => value.replace(/^"(.*)"$/s, '$1');

function execForm(instruction: Instruction | undefined): string[] {
  if (!instruction) return [];
  const text = instruction.getArgumentsContent() ?? '';
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`${instruction.getKeyword()} must be in exec form: ${text}`);
  }
  return parsed;
}

const fromFlag = (i: Instruction) =>
  (i as Copy)
    .getFlags()
    .find((flag) => flag.getName() === 'from')
    ?.getValue() ?? undefined;

const copyArgs = (i: Instruction) => i.getArguments().map((a) => a.getValue());

function describeStage(instructions: Instruction[]): Stage {
  const of = (keyword: string) => instructions.filter((i) => i.getKeyword() === keyword);
  const copies = of('COPY');
  return {
    name: /\sAS\s+(\S+)\s*$/i.exec(instructions[0]?.getArgumentsContent() ?? '')?.[1],
    workdir: of('WORKDIR').at(-1)?.getArgumentsContent() ?? undefined,
    contextCopies: copies.filter((i) => !fromFlag(i)).flatMap((i) => copyArgs(i).slice(0, -1)),
    stageCopies: copies
      .filter((i) => fromFlag(i))
      .map((i) => ({
        from: fromFlag(i) as string,
        sources: copyArgs(i).slice(0, -1),
        dest: copyArgs(i).at(-1) ?? '',
      })),
    runs: of('RUN').map((i) => i.getArgumentsContent() ?? ''),
  };
}

export function readDockerfile(path = 'deploy/Dockerfile'): RuntimeStage {
  const dockerfile = DockerfileParser.parse(read(path));
  const all = dockerfile.getInstructions();
  const froms = all.filter((i) => i.getKeyword() === 'FROM').map((i) => i.getArgumentsContent() ?? '');
  const starts = all.flatMap((i, n) => (i.getKeyword() === 'FROM' ? [n] : []));
  const stages = starts.map((start, n) => describeStage(all.slice(start, starts[n + 1])));
  const lastFrom = all.findLastIndex((i) => i.getKeyword() === 'FROM');
  const stage = all.slice(lastFrom);
  const of = (keyword: string) => stage.filter((i) => i.getKeyword() === keyword);
  const properties = (keyword: string) =>
    Object.fromEntries(
      of(keyword).flatMap((i) =>
        (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] })
          .getProperties()
          .map((p) => [p.getName(), unquote(p.getValue() ?? '')]),
      ),
    );
  return {
    froms,
    stages,
    instructions: stage.map((i) => ({ keyword: i.getKeyword(), args: i.getArgumentsContent() ?? '' })),
    env: properties('ENV'),
    labels: properties('LABEL'),
    command: [...execForm(of('ENTRYPOINT').at(-1)), ...execForm(of('CMD').at(-1))],
    user: of('USER').at(-1)?.getArgumentsContent() ?? undefined,
    workdir: of('WORKDIR').at(-1)?.getArgumentsContent() ?? undefined,
    contextCopies: stages.at(-1)?.contextCopies ?? [],
  };
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  networks?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
}

export function readCompose(path = 'deploy/docker-compose.yml'): ComposeFile {
  return parseYaml(read(path)) as ComposeFile;
}

/**
 * Compose's variable substitution (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`), applied to the
 * given shell environment, so a test sees the values the container would get.
 */
export function interpolate(value: string, shell: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name, op, arg) => {
    const set = shell[name];
    const usable = op?.startsWith(':') ? set !== undefined && set !== '' : set !== undefined;
    if (usable) return set as string;
    if (op?.endsWith('?')) throw new Error(`${name}: ${arg}`);
    return op?.endsWith('-') ? arg : '';
  });
}
