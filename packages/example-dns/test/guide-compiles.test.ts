import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Every TypeScript block of the docs compiles. A block whose first line names a repository file
// (`// packages/…/x.ts`) is a verbatim copy of that file, checked by the e2e docs test, and the file
// is compiled by `pnpm typecheck`. Every other block is written to a file of its own and compiled
// here with `tsc`, beside the declarations in `guide/` of the names the guide's prose defines
// elsewhere (`MyServices`, `myMigrations`, …). A block added to any doc is covered without a change.

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const guideDir = resolve(here, '../guide');
const outDir = resolve(here, '../.test-output/guide');

interface Block {
  doc: string;
  line: number;
  code: string;
}

const NAMED = /^\/\/ (?:packages|services)\/\S+\.ts\n/;

/** The ```ts blocks of a Markdown text that name no repository file, with the line each starts on. */
export function compiledBlocks(doc: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)) {
    const code = match[1] ?? '';
    if (NAMED.test(code)) continue;
    blocks.push({ doc, line: markdown.slice(0, match.index).split('\n').length + 1, code });
  }
  return blocks;
}

function docsWithCode(): string[] {
  const docs = readdirSync(resolve(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => resolve(root, 'docs', name));
  return [resolve(root, 'README.md'), ...docs];
}

/** Writes each block as a module of its own; returns file name → where it came from. */
function writeBlocks(blocks: Block[]): Map<string, Block> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // The module a block imports by a relative path sits beside it.
  for (const [file, names] of [
    ['volume-executors.ts', 'volumeExtendExecutor'],
    ['instance-backup.ts', 'instanceBackupExecutor'],
    ['instance-executors.ts', 'instancePullExecutor'],
  ] as const)
    writeFileSync(join(outDir, file), `export const { ${names} } = globalThis.guideModules;\n`);
  const files = new Map<string, Block>();
  blocks.forEach((block, index) => {
    const name = `block-${String(index).padStart(2, '0')}.ts`;
    // `export {}`: a block without imports is still a module, its names its own.
    writeFileSync(join(outDir, name), `${block.code}\nexport {};\n`);
    files.set(name, block);
  });
  return files;
}

/** Runs tsc on the guide's project; returns its diagnostics as "doc:line: message" (block-relative lines mapped back). */
function compile(files: Map<string, Block>): string[] {
  const tsc = resolve(root, 'node_modules/typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(guideDir, 'tsconfig.json'), '--pretty', 'false'], {
    encoding: 'utf8',
  });
  const output = `${run.stdout}${run.stderr}`;
  const problems = output
    .split('\n')
    .filter((line) => /error TS\d+/.test(line))
    .map((line) => {
      const found = /block-(\d+)\.ts\((\d+),\d+\): (.*)$/.exec(line);
      const block = found ? files.get(`block-${found[1]}.ts`) : undefined;
      if (!found || !block) return line;
      return `${relative(root, block.doc)}:${block.line + Number(found[2]) - 1}: ${found[3]}`;
    });
  if (run.status !== 0 && problems.length === 0) problems.push(output.trim() || `tsc exited with ${run.status}`);
  return problems;
}

test('every code block of the docs compiles (or is a verbatim copy of a compiled file)', () => {
  const blocks = docsWithCode().flatMap((doc) => compiledBlocks(doc, readFileSync(doc, 'utf8')));
  assert.ok(blocks.length >= 5, `the guide's own blocks are found (${blocks.length})`);
  // A canary: a block calling an API wrongly must fail, so the check is known to bite.
  const canary: Block = {
    doc: resolve(root, 'docs/write-your-own.md'),
    line: 0,
    code: "import { defineTask } from '@jetcel/core';\nexport const t = defineTask({ name: 'x', run: async (ctx) => ctx.fencingTokn });",
  };
  try {
    const problems = compile(writeBlocks([...blocks, canary]));
    const canaryProblems = problems.filter((problem) => problem.includes('fencingTokn'));
    assert.equal(canaryProblems.length, 1, `the canary's misspelt field is caught: ${problems.join('\n')}`);
    assert.deepEqual(
      problems.filter((problem) => !problem.includes('fencingTokn')),
      [],
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('a block naming a repository file is left to the verbatim check; any other is compiled', () => {
  const markdown = '# T\n\n```ts\n// packages/core/src/task.ts\nexport {};\n```\n\ntext\n\n```ts\nconst a = 1;\n```\n';
  const blocks = compiledBlocks('x.md', markdown);
  assert.deepEqual(
    blocks.map((block) => [block.line, block.code]),
    [[11, 'const a = 1;\n']],
  );
});
