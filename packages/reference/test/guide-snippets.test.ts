import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

// The guide's code compiles: each snippet below is a file `pnpm typecheck` compiles, and the guide
// shows that file's code (its imports may differ: the guide imports from the reader's own files).

const guide = new URL('../../../docs/write-your-own.md', import.meta.url);

/** The code after the last import line (and its leading comments), without a first line naming the file. */
function body(code: string): string {
  const lines = code.split('\n').filter((line, index) => index > 0 || !/^\/\/ (?:packages|services)\//.test(line));
  const lastImport = lines.findLastIndex((line) => line.startsWith('import '));
  return lines
    .slice(lastImport + 1)
    .join('\n')
    .trim();
}

/** The first TypeScript block under the guide's heading `heading`. */
function snippetUnder(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the guide has a section "${heading}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(markdown.slice(start));
  assert.ok(block?.[1], `a ts block under "${heading}"`);
  return block[1];
}

test('the guide shows the compiled code of "Entities with the EntityManager"', async () => {
  const markdown = await readFile(guide, 'utf8');
  const compiled = await readFile(new URL('./guide/entities-with-the-entity-manager.ts', import.meta.url), 'utf8');
  assert.equal(body(snippetUnder(markdown, '### Entities with the EntityManager')), body(compiled));
});

test('the guide shows the compiled code of its cleanup executor and its throttled background task', async () => {
  const markdown = await readFile(guide, 'utf8');
  for (const [heading, file] of [
    ['### Cleanup executors: related resources found when they run', './guide/cleanup-executors.ts'],
    ['### Throttled background tasks', './guide/throttled-background-tasks.ts'],
  ] as const) {
    const compiled = await readFile(new URL(file, import.meta.url), 'utf8');
    assert.equal(body(snippetUnder(markdown, heading)), body(compiled), heading);
  }
});

test('the guide shows the compiled code of "Starting executors from tasks and schedules"', async () => {
  const markdown = await readFile(guide, 'utf8');
  const compiled = await readFile(new URL('./guide/starting-executors-from-tasks.ts', import.meta.url), 'utf8');
  assert.equal(body(snippetUnder(markdown, '### Starting executors from tasks and schedules')), body(compiled));
});

test('the guide shows the compiled code of "Handler chains, executor handlers and preApply"', async () => {
  const markdown = await readFile(guide, 'utf8');
  const compiled = await readFile(new URL('./guide/handler-chains-and-pre-apply.ts', import.meta.url), 'utf8');
  assert.equal(body(snippetUnder(markdown, '### Handler chains, executor handlers and preApply')), body(compiled));
});
