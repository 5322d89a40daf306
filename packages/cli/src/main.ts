// The `jetcel` executable (pnpm jetcel …, or bin/jetcel.mjs). Exit codes: see src/exit-codes.ts.
import { runCli } from './run.ts';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort(new Error(signal)));

process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
