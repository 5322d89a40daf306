import type { ChildProcess } from 'node:child_process';

/**
 * Keeps track of everything this test process started (child processes and
 * daemons such as a private PostgreSQL cluster) so that nothing outlives it:
 * on `process.on('exit')` every tracked child gets SIGKILL and every cleanup
 * runs. Cleanups run synchronously, because 'exit' handlers cannot await.
 */

type SyncCleanup = () => void;

const children = new Set<ChildProcess>();
const cleanups = new Set<SyncCleanup>();
let installed = false;

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function cleanupAll(): void {
  for (const child of children) {
    if (isRunning(child)) {
      try {
        child.kill('SIGKILL');
      } catch {
        // best effort: the process may already be gone
      }
    }
  }
  children.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
}

/**
 * On SIGINT/SIGTERM Node exits without emitting 'exit'. If nobody else handles
 * the signal, clean up and re-raise it so the default behaviour (exit with
 * that signal) is kept. If someone else handles it, leave it to them.
 */
function onSignal(signal: NodeJS.Signals): void {
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (process.listenerCount(signal) > 0) return;
  cleanupAll();
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Kill `child` with SIGKILL if the test process exits while it is still running. */
export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Run `cleanup` (synchronously) when the test process exits; returns an untrack function. */
export function trackCleanup(cleanup: SyncCleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
