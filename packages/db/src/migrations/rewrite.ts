/**
 * `text` (an earlier migration's statement) with each pattern replaced, each found exactly as often
 * as expected: a changed source fails loudly instead of yielding a statement nobody wrote.
 */
export function rewritten(migration: string, text: string, edits: Array<[RegExp, string, number]>): string {
  return edits.reduce((sql, [pattern, replacement, times]) => {
    const found = sql.match(pattern)?.length ?? 0;
    if (found !== times) throw new Error(`${migration}: expected ${times} of ${String(pattern)}, found ${found}`);
    return sql.replace(pattern, replacement);
  }, text);
}
