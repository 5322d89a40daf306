import { ValidationError } from '@jetcel/core';

/** A header's value whatever its case, or undefined. */
export function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

// Header values end up in columns and logs: printable, bounded, and found whatever their case.
export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const ACTOR_PATTERN = /^[^\p{Cc}]{1,255}$/u;

export function headerValue(
  headers: Record<string, string>,
  name: string,
  pattern: RegExp,
  label: string,
): string | null {
  const found = findHeader(headers, name);
  if (found === undefined) return null;
  if (!pattern.test(found))
    throw new ValidationError(`${label} must be 1 to 255 printable characters`, { header: label });
  return found;
}
