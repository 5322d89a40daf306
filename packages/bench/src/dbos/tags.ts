import { randomUUID } from 'node:crypto';

/**
 * Workflow ids of one measurement share a tag (`<tag>-<uuid>`), so the driver reads exactly that
 * measurement's outcomes from DBOS's system database, whatever the clocks say.
 */
export function dbosTags(prefix: string): { current(): string; nextId(): string; rotate(): void } {
  let round = 1;
  const tag = (): string => `${prefix}${round}`;
  return {
    current: tag,
    nextId: () => `${tag()}-${randomUUID()}`,
    rotate: () => void round++,
  };
}
