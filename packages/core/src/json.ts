/** A value that survives JSON.stringify / JSON.parse unchanged. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Drops undefined values, so an options object can be stored as a step's JSON arguments. */
export function definedJson(value: Record<string, Json | undefined>): JsonObject {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as JsonObject;
}
