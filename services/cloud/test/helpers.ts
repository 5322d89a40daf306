import { setTimeout as sleep } from 'node:timers/promises';
import { startCloud, type RunningCloud, type StartCloudOptions } from '../src/index.ts';

export interface ApiResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface ApiRequest {
  body?: unknown;
  /** Sent as is instead of JSON.stringify(body). */
  rawBody?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TestCloud extends RunningCloud {
  api(method: string, path: string, request?: ApiRequest): Promise<ApiResponse>;
}

/** A cloud on a random port with short delays. */
export async function startTestCloud(options: StartCloudOptions = {}): Promise<TestCloud> {
  const cloud = await startCloud({ port: 0, buildDelayMs: 100, deleteDelayMs: 50, actionDelayMs: 50, ...options });
  const api = async (method: string, path: string, request: ApiRequest = {}): Promise<ApiResponse> => {
    const payload = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const response = await fetch(`${cloud.url}${path}`, {
      method,
      headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(payload === undefined ? {} : { body: payload }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
      headers: response.headers,
    };
  };
  return { ...cloud, api };
}

let keyCounter = 0;

/** A fresh Idempotency-Key header. */
export function freshKey(): Record<string, string> {
  keyCounter += 1;
  return { 'idempotency-key': `key-${process.pid}-${keyCounter}` };
}

/** Narrows an API body to a record so that fields can be read. */
export function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`expected a JSON object, got ${JSON.stringify(body)}`);
  }
  return body as Record<string, unknown>;
}

/** The `error.code` of an error body. */
export function errorCode(body: unknown): unknown {
  return record(record(body)['error'])['code'];
}

/** Polls until `probe` returns true or `timeoutMs` passes. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
