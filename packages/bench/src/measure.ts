/**
 * Runs one system's measurement of a round; a failure (a timeout on a saturated machine) is
 * reported and leaves that round's figures out instead of ending the whole run.
 */
export async function measure(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    process.stderr.write(`  ${what} FAILED: ${(error as Error).message}\n`);
  }
}
