import { after, before } from 'node:test';

/**
 * A fixture a test file shares from its first test to its last: made in `before`, closed in
 * `after`. The answer reads it (inside a test or hook; before that it throws).
 */
export function perTestFile<T extends { close(): Promise<void> }>(setup: () => Promise<T>): () => T {
  let current: T | undefined;
  before(async () => {
    current = await setup();
  });
  after(async () => {
    await current?.close();
  });
  return () => {
    if (!current) throw new Error('The test fixture is made in before()');
    return current;
  };
}
