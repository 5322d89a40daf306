import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bus } from '@jetcel/bus';
import { composeDomains, loadDomains } from '@jetcel/runtime';
import { deadLetterCommands, frameworkQueries, operatorQueries } from '@jetcel/runtime/internal';

// The docs stay true: every relative link in every Markdown file resolves (the file, and the
// heading its #anchor names), and every cmd.*/query.* subject the docs name is one the executor serves.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skipped = new Set(['node_modules', '.git', 'dist', '.test-output']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (skipped.has(entry.name)) return [];
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code: links there are examples, not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = (match[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const match of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? '');
  return anchors;
}

/** Every problem with one file's relative links, as "file: target (why)". */
function brokenLinks(file: string, markdown: string, repoRoot: string): string[] {
  const problems: string[] = [];
  const text = prose(markdown);
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] ?? ''),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1] ?? ''),
  ];
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: public addresses
    const [pathPart = '', anchor] = target.split('#', 2);
    const path = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(repoRoot, file)}: ${target}`;
    if (relative(repoRoot, path).startsWith('..')) {
      problems.push(`${where} (outside the repository)`);
      continue;
    }
    if (!existsSync(path)) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(path).isDirectory() || !path.endsWith('.md')) {
      problems.push(`${where} (an anchor into a file that is not Markdown)`);
      continue;
    }
    const anchors = path === file ? headingAnchors(markdown) : headingAnchors(readFileSync(path, 'utf8'));
    if (!anchors.has(decodeURIComponent(anchor).toLowerCase())) problems.push(`${where} (no such heading)`);
  }
  return problems;
}

/** The subjects the executor serves: the configured domains' (jetcel.config.ts), then the framework's and operators'. */
async function servedSubjects(): Promise<Set<string>> {
  const { JETCEL_DOMAINS: _ignored, ...env } = process.env;
  const domains = composeDomains(await loadDomains({ env, cwd: root }));
  // Building the operator queries touches no connection; only answering one does.
  const bus = {} as Bus;
  const definitions = [
    ...domains.commands,
    ...frameworkQueries(),
    ...deadLetterCommands(),
    ...operatorQueries({ bus, catalog: domains.tasks, schedules: domains.schedules, defaultThrottleLimit: 4 }),
  ];
  return new Set(definitions.map((definition) => definition.subject));
}

const files = markdownFiles(root);

test('the repository has Markdown files to check, the README and docs/ among them', () => {
  const names = files.map((file) => relative(root, file).split(sep).join('/'));
  assert.ok(names.includes('README.md'));
  assert.ok(names.includes('docs/contract.md'));
});

test('every relative link in every Markdown file resolves, anchors included', () => {
  const problems = files.flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8'), root));
  assert.deepEqual(problems, []);
});

test('the link check catches a missing file, a missing heading and a link out of the repository', () => {
  const file = resolve(root, 'README.md');
  const markdown =
    '# Title\n\n[a](docs/nope.md) [b](#nowhere) [c](../outside/notes.md) [d](#title) [e](https://x.y/z)\n';
  assert.deepEqual(
    brokenLinks(file, markdown, root).map((problem) => problem.replace(/ \(.*\)$/, '')),
    ['README.md: docs/nope.md', 'README.md: #nowhere', 'README.md: ../outside/notes.md'],
  );
});

test('anchors follow GitHub: punctuation dropped, code kept, repeats numbered', () => {
  const anchors = headingAnchors('## Metrics, traces and logs\n## `query.lease.list` (admin)\n## Limits\n## Limits\n');
  assert.deepEqual([...anchors], ['metrics-traces-and-logs', 'queryleaselist-admin', 'limits', 'limits-1']);
});

test('every cmd.* and query.* subject the docs name is one the executor serves', async () => {
  const served = await servedSubjects();
  assert.ok(served.has('cmd.instance.create') && served.has('query.lease.list'), 'the served set is built');
  assert.ok(served.has('cmd.dns_zone.create'), 'every configured domain is served');
  const unknown = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?<![\w.$>-])(?:cmd|query)\.[a-z_]+\.[a-z_]+(?![\w.-]*[\w-])/g)]
      .map((match) => match[0])
      .filter((subject) => !served.has(subject))
      .map((subject) => `${relative(root, file)}: ${subject}`),
  );
  assert.deepEqual(unknown, []);
});

/** Code blocks whose first line is a comment naming a repository file: "file: problem" for each that is not in it verbatim. */
function staleSnippets(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const match of markdown.matchAll(/^```ts\n\/\/ ((?:packages|services)\/\S+\.ts)\n([\s\S]*?)^```$/gm)) {
    const [, source = '', body = ''] = match;
    const path = resolve(root, source);
    const where = `${relative(root, file)}: ${source}`;
    if (!existsSync(path)) problems.push(`${where} (no such file)`);
    else {
      const text = readFileSync(path, 'utf8');
      const missing = body.split(/\n{2,}/).find((part) => part.trim() !== '' && !text.includes(part.trim()));
      if (missing !== undefined) problems.push(`${where} (not in the file: ${missing.split('\n')[0]})`);
    }
  }
  return problems;
}

test('a code block naming a source file is a verbatim copy of it (the guide code compiles with its tests)', () => {
  const guide = resolve(root, 'docs/write-your-own.md');
  const markdown = readFileSync(guide, 'utf8');
  assert.ok(markdown.includes('// packages/example-dns/test/executors.test.ts'), 'the guide has such blocks');
  assert.deepEqual(
    files.flatMap((file) => staleSnippets(file, readFileSync(file, 'utf8'))),
    [],
  );
  const drifted = markdown.replace("'quota of zones exceeded'", "'quota exceeded'");
  assert.equal(staleSnippets(guide, drifted).length, 1, 'a changed line is caught');
});
