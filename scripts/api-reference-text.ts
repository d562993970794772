/**
 * Every operation of spec/openapi.json as plain HTML: what docs/api-reference/index.html shows a reader
 * without JavaScript (Redoc's own prerendering stops at the overview), and what search engines, `grep`
 * and screen readers find in the file. Kept to what the document says, in its order: the groups (tags),
 * each operation with its id, credentials, parameters, body and responses, then the named schemas.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  description?: string;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Content {
  content?: Record<string, { schema?: Schema }>;
  description?: string;
}
interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: Content & { required?: boolean };
  responses: Record<string, Content>;
}
interface Tag {
  name: string;
  description?: string;
}
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  tags?: Tag[];
  paths: Record<string, Record<string, Operation>>;
  components?: {
    schemas?: Record<string, Schema>;
    securitySchemes?: Record<string, { description?: string }>;
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The document's prose uses one piece of Markdown, `code`; everything else is escaped as is. */
const prose = (text: string) =>
  text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHtml(part)}</code>` : escapeHtml(part)))
    .join('');

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;
const schemaAnchor = (name: string) => `plain-schema-${name}`;
const json = (value: unknown) => code(JSON.stringify(value));

function range(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return undefined;
}

/** A schema in a few words: its type, or a link to the named schema it refers to, and its limits. */
function typeOf(schema: Schema): string {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop() ?? schema.$ref;
    return `<a href="#${schemaAnchor(name)}">${escapeHtml(name)}</a>`;
  }
  const alternatives = schema.oneOf ?? schema.anyOf ?? schema.allOf;
  if (alternatives) return alternatives.map(typeOf).join(schema.allOf ? ' and ' : ' or ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  let words = types.map((t) => (t === 'array' && schema.items ? `array of ${typeOf(schema.items)}` : t));
  const values = schema.additionalProperties;
  if (typeof values === 'object' && Object.keys(values).length > 0) words = [`map of ${typeOf(values)}`];
  const limits: string[] = [];
  if (schema.const !== undefined) limits.push(`always ${json(schema.const)}`);
  if (schema.enum) limits.push(`one of ${schema.enum.map(json).join(', ')}`);
  if (schema.format) limits.push(`format ${escapeHtml(schema.format)}`);
  const length = range(schema.minLength, schema.maxLength);
  if (length) limits.push(`${length} characters`);
  const size = range(schema.minimum, schema.maximum);
  if (size) limits.push(size);
  if (schema.pattern) limits.push(`matching ${code(schema.pattern)}`);
  if (schema.default !== undefined) limits.push(`default ${json(schema.default)}`);
  const base = words.join(' or ') || 'any JSON';
  return limits.length > 0 ? `${base} (${limits.join('; ')})` : base;
}

/** An object's properties (or its array items') as a nested list; other schemas need only `typeOf`. */
function fields(schema: Schema): string {
  if (schema.items) return fields(schema.items);
  if (schema.allOf) return schema.allOf.map(fields).join('');
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) {
    const each = alternatives.map(
      (alt, i) => `<li>${i === 0 ? 'either' : 'or'} ${typeOf(alt)}${fields(alt)}</li>`,
    );
    return `<ul>${each.join('')}</ul>`;
  }
  if (!schema.properties) return '';
  const required = new Set(schema.required ?? []);
  const items = Object.entries(schema.properties).map(([name, property]) => {
    const about = property.description ? `: ${prose(property.description)}` : '';
    const need = required.has(name) ? ', required' : '';
    return `<li>${code(name)}: ${typeOf(property)}${need}${about}${fields(property)}</li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

/** A body's media types, each with its schema and, when the schema is inline, its properties. */
function body(content: Content['content']): string {
  return Object.entries(content ?? {})
    .map(([type, { schema }]) => ` ${code(type)}${schema ? `: ${typeOf(schema)}${fields(schema)}` : ''}`)
    .join(';');
}

function credentials(security: Operation['security']): string {
  if (!security || security.length === 0) return 'none';
  return security
    .map((need) => (Object.keys(need).length === 0 ? 'none' : Object.keys(need).map(code).join(' + ')))
    .join(' or ');
}

function operation(method: string, path: string, op: Operation): string {
  const parameters = (op.parameters ?? []).map((p) => {
    const need = p.required ? ', required' : '';
    const about = p.description ? `: ${prose(p.description)}` : '';
    return `<li>${code(p.name)} (${p.in}${need}): ${p.schema ? typeOf(p.schema) : 'any'}${about}</li>`;
  });
  const responses = Object.entries(op.responses).map(
    ([status, r]) =>
      `<li>${status}: ${prose(r.description ?? '')}${r.content ? `.${body(r.content)}` : ''}</li>`,
  );
  return [
    `<section id="plain-${escapeHtml(op.operationId)}">`,
    `<h3>${escapeHtml(op.summary)}</h3>`,
    `<p>${code(`${method.toUpperCase()} ${path}`)}, operation ${code(op.operationId)}. Credentials: ${credentials(op.security)}.</p>`,
    op.description ? `<p>${prose(op.description)}</p>` : '',
    parameters.length > 0 ? `<p>Parameters:</p><ul>${parameters.join('')}</ul>` : '',
    op.requestBody
      ? `<p>Body${op.requestBody.required ? ' (required)' : ''}:${body(op.requestBody.content)}</p>`
      : '',
    `<p>Responses:</p><ul>${responses.join('')}</ul>`,
    '</section>',
  ].join('\n');
}

/** One line of the table of contents: a group and its operations. */
const contents = (tag: Tag, members: { op: Operation }[]) =>
  `<li><a href="#plain-tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</a>: ${members
    .map(({ op }) => `<a href="#plain-${escapeHtml(op.operationId)}">${escapeHtml(op.summary)}</a>`)
    .join(', ')}</li>`;

/** The whole document as one `<main id="plain-reference">`, headed by `title`. */
export function plainReference(doc: OpenApiDocument, title: string): string {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op })),
  );
  const tags = [...(doc.tags ?? [])];
  for (const { op } of operations)
    for (const name of op.tags ?? []) if (!tags.some((t) => t.name === name)) tags.push({ name });
  const untagged = operations.filter(({ op }) => !op.tags?.length);
  const groups = [
    ...tags.map((tag) => ({ tag, members: operations.filter(({ op }) => op.tags?.[0] === tag.name) })),
    ...(untagged.length > 0 ? [{ tag: { name: 'Other' } as Tag, members: untagged }] : []),
  ];
  const schemes = Object.entries(doc.components?.securitySchemes ?? {});
  const schemas = Object.entries(doc.components?.schemas ?? {});
  return [
    '<main id="plain-reference">',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}. ${prose(doc.info.description ?? '')}</p>`,
    '<p>This is the plain-text version of the reference, for reading without JavaScript. With JavaScript on, ' +
      'the same file shows it with Redoc, whose script is inside the file: nothing loads from the network.</p>',
    `<ul>${groups.map(({ tag, members }) => contents(tag, members)).join('')}</ul>`,
    '<h2 id="plain-credentials">Credentials</h2>',
    `<ul>${schemes.map(([name, s]) => `<li>${code(name)}: ${prose(s.description ?? '')}</li>`).join('')}</ul>`,
    ...groups.flatMap(({ tag, members }) => [
      `<h2 id="plain-tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</h2>`,
      tag.description ? `<p>${prose(tag.description)}</p>` : '',
      ...members.map(({ method, path, op }) => operation(method, path, op)),
    ]),
    '<h2 id="plain-schemas">Schemas</h2>',
    ...schemas.map(
      ([name, s]) =>
        `<section id="${schemaAnchor(name)}"><h3>${escapeHtml(name)}</h3><p>${typeOf(s)}${
          s.description ? `: ${prose(s.description)}` : ''
        }</p>${fields(s)}</section>`,
    ),
    '</main>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}
