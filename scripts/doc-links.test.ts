/**
 * Every relative link between the docs resolves: to a file or directory in the repository and, when
 * the link names an anchor in a Markdown file, to a heading there (as GitHub slugs headings).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function markdownUnder(dir: string, onlyReadme: boolean): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((path) => !path.split('/').includes('node_modules'))
    .filter((path) => (onlyReadme ? path.endsWith('README.md') : path.endsWith('.md')))
    .map((path) => join(dir, path));
}

/** README.md, docs/**, sdk-* READMEs, examples/** READMEs and CONTRIBUTING.md. */
function documents(): string[] {
  const sdks = readdirSync(ROOT).filter(
    (name) => name.startsWith('sdk-') && statSync(join(ROOT, name)).isDirectory(),
  );
  return [
    'README.md',
    'CONTRIBUTING.md',
    ...markdownUnder('docs', false),
    ...sdks.flatMap((sdk) => markdownUnder(sdk, true)),
    ...markdownUnder('examples', true),
  ].filter((path) => existsSync(join(ROOT, path)));
}

const withoutFences = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');

/** The text outside fenced code blocks and inline code, where a link is a link. */
const prose = (markdown: string) => withoutFences(markdown).replace(/`[^`\n]*`/g, '');

function links(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
  const reference = [...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map(
    (m) => m[1] as string,
  );
  return [...inline, ...reference];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = (match[1] as string).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return result;
}

/** The problem with one link from `from`, or undefined when it resolves. */
function check(from: string, link: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) return undefined; // external
  const [pathPart = '', anchor] = link.split('#', 2);
  const path = decodeURIComponent(pathPart);
  const target = path === '' ? from : relative(ROOT, join(ROOT, dirname(from), path));
  if (target.startsWith('..')) return `${link} leaves the repository`;
  if (!existsSync(join(ROOT, target))) return `${link}: no such file ${target}`;
  if (anchor && target.endsWith('.md')) {
    if (!anchors(readFileSync(join(ROOT, target), 'utf8')).has(anchor.toLowerCase())) {
      return `${link}: no heading #${anchor} in ${target}`;
    }
  }
  return undefined;
}

describe('links between the docs', () => {
  it('finds the documents to check', () => {
    const docs = documents();
    expect(docs).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/architecture.md']));
  });

  it('resolve to a file, and to a heading when they name one', () => {
    const all = documents().flatMap((doc) => links(readFileSync(join(ROOT, doc), 'utf8')));
    expect(all.filter((link) => !/^[a-z]+:/i.test(link)).length).toBeGreaterThan(20);
    const problems = documents().flatMap((doc) =>
      links(readFileSync(join(ROOT, doc), 'utf8'))
        .map((link) => check(doc, link))
        .filter((problem) => problem !== undefined)
        .map((problem) => `${doc}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  it('catches a missing file, a missing heading and a link out of the repository', () => {
    expect(check('docs/cli.md', 'nope.md')).toMatch(/no such file docs\/nope\.md/);
    expect(check('docs/cli.md', '../README.md#no-such-heading')).toMatch(/no heading/);
    expect(check('docs/cli.md', '../README.md#configuration')).toBeUndefined();
    expect(check('docs/cli.md', '#commands')).toBeUndefined();
    expect(check('README.md', '../outside.md')).toMatch(/leaves the repository/);
    expect(links('see [a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n[d]: d.md')).toEqual(['a.md', 'd.md']);
    expect([
      ...anchors('# Deploying with Docker\n## The image alone\n## `admp serve`\n## A.B, c\n## A.B, c'),
    ]).toEqual(['deploying-with-docker', 'the-image-alone', 'admp-serve', 'ab-c', 'ab-c-1']);
  });
});
