import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Holds every exchange of the integration suite to the committed spec/openapi.json, so the
 * document a client generator reads cannot drift from what the relay does on the wire:
 * - every response has a status the operation documents, and a JSON body its schema accepts;
 * - every request the relay accepted (2xx) is one the document allows, or a generated client
 *   would refuse to send what the relay takes.
 */
const document = JSON.parse(readFileSync(new URL('../../spec/openapi.json', import.meta.url), 'utf8'));

// OpenAPI 3.1's schemas are JSON Schema 2020-12; `strict: false` lets the document's own
// keywords (`example`, `openapi`, `paths`) sit beside the schemas that $ref into it.
const bodies = new Ajv2020({ strict: false, allErrors: true });
// Path and query parameters arrive as text: `?wait=5` is the integer 5.
const parameters = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
for (const ajv of [bodies, parameters]) {
  addFormats.default(ajv);
  ajv.addSchema(document, 'openapi.json');
}

const compiled = new Map<string, ValidateFunction>();
function validator(ajv: Ajv2020, pointer: string[]): ValidateFunction {
  const ref = `openapi.json#/${pointer.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
  const key = `${ajv === parameters ? 'p' : 'b'}${ref}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(key, validate);
  }
  return validate;
}

/** Each distinct problem once, naming the offending property, the first few only. */
function describe(errors: ErrorObject[]): string {
  const lines = errors.map((e) => {
    const extra = 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : '';
    return `${e.instancePath || '/'} ${e.message}${extra}`;
  });
  return [...new Set(lines)].slice(0, 5).join('; ');
}

interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, unknown> }>;
}

const routes = Object.entries(document.paths as Record<string, Record<string, Operation>>).map(
  ([template, operations]) => ({
    template,
    operations,
    names: [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '([^/]+)')}$`),
  }),
);

export interface Exchange {
  method: string;
  /** Path and query, as passed to `app.request`. */
  url: string;
  /** The request body's text, when it had one. */
  requestBody?: string | undefined;
  status: number;
  /** The response body, parsed when it was JSON. */
  responseBody: unknown;
  responseType: string | null;
}

/** What of the exchange the document does not allow; empty when it conforms. */
export function conformanceProblems(exchange: Exchange): string[] {
  const { method, status } = exchange;
  const url = new URL(exchange.url, 'http://relay');
  const at = `${method} ${url.pathname} → ${status}`;
  const route = routes.find((r) => r.pattern.test(url.pathname) && r.operations[method.toLowerCase()]);
  if (!route) {
    // The document covers the API; /docs and its assets are not part of it.
    return url.pathname.startsWith('/v1/') && status < 400
      ? [`${at}: no operation in spec/openapi.json`]
      : [];
  }
  const verb = method.toLowerCase();
  const operation = route.operations[verb] as Operation;
  const problems: string[] = [];
  const check = (pointer: string[], value: unknown, what: string, excused = (_path: string) => false) => {
    const validate = validator(bodies, ['paths', route.template, verb, ...pointer]);
    if (validate(value)) return;
    const errors = (validate.errors ?? []).filter((e) => !excused(e.instancePath));
    if (errors.length > 0) problems.push(`${at}: ${what} ${describe(errors)}`);
  };

  const response = operation.responses[String(status)];
  if (!response) problems.push(`${at}: status not documented`);
  else if (response.content?.['application/json']) {
    if (!exchange.responseType?.startsWith('application/json')) {
      problems.push(`${at}: documented as JSON, sent ${exchange.responseType}`);
    } else {
      check(
        ['responses', String(status), 'content', 'application/json', 'schema'],
        exchange.responseBody,
        'response',
      );
    }
  }

  if (status >= 200 && status < 300) {
    const pathValues = route.pattern.exec(url.pathname)?.slice(1) ?? [];
    (operation.parameters ?? []).forEach((parameter, i) => {
      const raw =
        parameter.in === 'path'
          ? pathValues[route.names.indexOf(parameter.name)]
          : parameter.in === 'query'
            ? url.searchParams.get(parameter.name)
            : undefined;
      if (raw === undefined || raw === null) return;
      const value = parameter.in === 'path' ? decodeURIComponent(raw) : raw;
      const validate = validator(parameters, [
        'paths',
        route.template,
        verb,
        'parameters',
        String(i),
        'schema',
      ]);
      if (!validate(value)) {
        problems.push(
          `${at}: ${parameter.in} parameter ${parameter.name} ${parameters.errorsText(validate.errors)}`,
        );
      }
    });
    for (const name of new Set(url.searchParams.keys())) {
      // A random `nonce` makes each HMAC-signed request unique (docs/security.md); the relay
      // ignores query parameters it does not know, so no operation lists it.
      if (name === 'nonce') continue;
      if (!operation.parameters?.some((p) => p.in === 'query' && p.name === name)) {
        problems.push(`${at}: query parameter ${name} is not documented`);
      }
    }
    if (exchange.requestBody !== undefined && operation.requestBody?.content['application/json']) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(exchange.requestBody);
      } catch {
        problems.push(`${at}: accepted a request body that is not JSON`);
      }
      // A batch answers 200 and fails a bad item alone: that item was refused, not accepted.
      const results = (exchange.responseBody as { results?: { error?: unknown }[] } | null)?.results;
      const refusedItem = (path: string) => results?.[Number(path.split('/')[2])]?.error !== undefined;
      if (parsed !== undefined)
        check(['requestBody', 'content', 'application/json', 'schema'], parsed, 'request', refusedItem);
    } else if (exchange.requestBody !== undefined && exchange.requestBody !== '' && !operation.requestBody) {
      problems.push(`${at}: accepted a request body the operation does not take`);
    }
  }
  return problems;
}
