import { validationFailed } from './errors.ts';

/** Field readers for JSON bodies: each throws a 400 VALIDATION_FAILED naming the field. */

export type JsonObject = Record<string, unknown>;

const MAX_TEXT = 255;

export function requireObject(body: unknown, what = 'request body'): JsonObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationFailed(`${what} must be a JSON object`);
  }
  return body as JsonObject;
}

export function requireText(body: JsonObject, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw validationFailed(`"${field}" is required and must be a non-empty string`);
  }
  if (value.length > MAX_TEXT) throw validationFailed(`"${field}" must be at most ${MAX_TEXT} characters`);
  return value;
}

export function optionalText(body: JsonObject, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireText(body, field);
}

export function requireInteger(body: JsonObject, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw validationFailed(`"${field}" must be an integer between ${min} and ${max}`);
  }
  return value;
}

export function optionalInteger(body: JsonObject, field: string, min: number, max?: number): number | undefined {
  return body[field] === undefined ? undefined : requireInteger(body, field, min, max);
}

export function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw validationFailed(`"${field}" must be a boolean`);
  return value;
}

export function requireOneOf<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T {
  const value = body[field];
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw validationFailed(`"${field}" must be one of ${allowed.join(', ')}`);
  return match;
}

export function optionalOneOf<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  return body[field] === undefined ? undefined : requireOneOf(body, field, allowed);
}
