// Bad input, commands side: random and hostile payloads and headers on every command
// and query subject the executor serves. Properties: exactly one well-formed reply envelope per
// request, with the right code; nothing written for rejected input; the executor stays up, keeps
// answering, and its memory stays flat.
//
// Replay a failure: JETCEL_FUZZ_SEED=<seed> (printed in the test names), plus the `path` fast-check
// prints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_COMMAND_BYTES, type ErrorCode, type Reply } from '@jetcel/contracts';
import { RESOURCE_STATES } from '@jetcel/core';
import { DEAD_LETTER_REASONS, EXECUTION_STATUSES } from '@jetcel/db';
import { createReferenceDomain } from '@jetcel/reference';
import type { Bus } from '@jetcel/bus';
import type { CommandDefinition } from '@jetcel/runtime';
import { deadLetterCommands, frameworkQueries, operatorQueries } from '@jetcel/runtime/internal';
import type { ServiceProcess } from '@jetcel/testing';
import { Stack, dataOf } from '../test/stack.ts';
import {
  FUZZ_SEED,
  RawNats,
  envelopeProblem,
  headerBlock,
  isRunning,
  log,
  parseReply,
  rssKiB,
  sleep,
  tableCounts,
} from './fuzz-support.ts';

// ---- what the executor serves, and what each subject accepts ---------------------------------

/** The subjects the README and the reference domain promise; checked against "executor ready". */
const DOCUMENTED_SUBJECTS = [
  'cmd.instance.create',
  'cmd.instance.rename',
  'cmd.instance.resize',
  'cmd.instance.start',
  'cmd.instance.stop',
  'cmd.instance.pull',
  'cmd.instance.delete',
  'cmd.instance.backup',
  'cmd.volume.create',
  'cmd.volume.extend',
  'cmd.volume.delete',
  'cmd.project.create',
  'cmd.project.delete',
  'cmd.cloud_settings.create',
  'cmd.execution.cancel',
  'query.instance.get',
  'query.instance.list',
  'query.volume.get',
  'query.project.get',
  'query.execution.get',
  'query.execution.list',
].sort();

/** The oracle: the executor's own definitions (input parsers), composed as executor-service does. */
const definitions = new Map<string, CommandDefinition<never>>(
  [
    ...createReferenceDomain().commands,
    ...frameworkQueries(),
    ...deadLetterCommands(),
    // Only subjects and input parsers are read: the bus and catalog are never used by the oracle.
    ...operatorQueries({ bus: {} as Bus, catalog: new Map(), schedules: [], defaultThrottleLimit: 4 }),
  ].map((definition) => [definition.subject, definition]),
);
/** Every subject fuzzed: the oracle's, which the first test checks against what the executor announces. */
const SUBJECTS = [...definitions.keys()].sort();

type FieldKind =
  | 'uuid'
  | 'slug'
  | 'cloud'
  | 'size'
  | 'bool'
  | 'text63'
  | 'text255'
  | 'state'
  | 'status'
  | 'reason'
  | 'limit'
  | 'offset'
  | 'volumes'
  | 'retention';
type Fields = Record<string, { kind: FieldKind; required: boolean }>;
const req = (kind: FieldKind) => ({ kind, required: true });
const opt = (kind: FieldKind) => ({ kind, required: false });
const byId: Fields = { id: req('uuid') };

/** Field models, written from the README and the zod schemas, to aim mutations at real fields. */
const FIELDS: Record<string, Fields> = {
  'cmd.instance.create': {
    name: req('slug'),
    cloudSettingsId: req('cloud'),
    flavor: opt('slug'),
    projectId: opt('uuid'),
    volumes: opt('volumes'),
  },
  'cmd.instance.rename': { id: req('uuid'), name: req('slug') },
  'cmd.instance.resize': { id: req('uuid'), flavor: req('slug') },
  'cmd.instance.start': byId,
  'cmd.instance.stop': byId,
  'cmd.instance.pull': byId,
  'cmd.instance.delete': { id: req('uuid'), force: opt('bool') },
  'cmd.instance.backup': { id: req('uuid'), name: req('slug') },
  'cmd.instance.set_backup_schedule': { id: req('uuid'), retention: req('retention') },
  'cmd.volume.create': { name: req('slug'), cloudSettingsId: req('cloud'), size: req('size'), instanceId: opt('uuid') },
  'cmd.volume.extend': { id: req('uuid'), size: req('size') },
  'cmd.volume.delete': { id: req('uuid'), force: opt('bool') },
  'cmd.project.create': { name: req('slug') },
  'cmd.project.delete': byId,
  'cmd.cloud_settings.create': { id: req('slug'), name: req('text255') },
  'cmd.execution.cancel': byId,
  'query.instance.get': byId,
  'query.instance.list': { state: opt('state'), limit: opt('limit'), offset: opt('offset') },
  'query.volume.get': byId,
  'query.project.get': byId,
  'query.execution.get': byId,
  'query.execution.list': {
    resourceType: opt('text63'),
    resourceId: opt('text255'),
    status: opt('status'),
    limit: opt('limit'),
  },
  'cmd.dead_letter.redrive': byId,
  'query.dead_letter.list': { reason: opt('reason'), pending: opt('bool'), limit: opt('limit') },
  'query.retention.stats': {},
  'query.queue.stats': {},
  'query.schedule.list': {},
  'query.lease.list': { kind: opt('text63'), scope: opt('text255') },
  'query.resource.list': { type: opt('text63'), state: opt('state'), limit: opt('limit') },
  'query.resource.get': { type: req('text63'), id: req('uuid') },
};

type Expected = { kind: 'rejected'; code: ErrorCode } | { kind: 'valid'; command: boolean; input: unknown };

/** What the executor must answer, decided the way the README specifies it, with its own parsers. */
function expectationFor(subject: string, body: Uint8Array, headers: Header[] | undefined): Expected {
  // The limit covers the header block and the body together.
  const size = body.byteLength + (headers ? headerBlock(headers).length : 0);
  if (size > MAX_COMMAND_BYTES) return { kind: 'rejected', code: 'PAYLOAD_TOO_LARGE' };
  // The caller is identified before the subject is looked up: a malformed Actor header fails first.
  const actor = executorHeader(headers, 'Actor');
  if (actor !== undefined && !ACTOR_HEADER.test(actor)) return { kind: 'rejected', code: 'VALIDATION_FAILED' };
  const definition = definitions.get(subject);
  if (!definition) return { kind: 'rejected', code: 'UNKNOWN_SUBJECT' };
  // No case carries a token: the anonymous caller (allow) reads everything and may use admin-only
  // subjects, so no expectation depends on identity (reads.test.ts covers verified callers).
  let input: unknown;
  try {
    input = definition.input.parse(JSON.parse(Buffer.from(body).toString('utf8')));
  } catch {
    return { kind: 'rejected', code: 'VALIDATION_FAILED' };
  }
  const command = definition.kind === 'command';
  const key = command ? executorHeader(headers, 'Idempotency-Key') : undefined;
  if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) return { kind: 'rejected', code: 'VALIDATION_FAILED' };
  return { kind: 'valid', command, input };
}

// ---- cases and headers ------------------------------------------------------------------------

type Header = readonly [string, string];

interface Case {
  subject: string;
  body: Uint8Array;
  headers: Header[] | undefined;
  label: string;
}

/** A case prints as a short summary in fast-check's counterexamples (bodies can be 1 MB). */
function makeCase(subject: string, body: string | Uint8Array, label: string, headers?: Header[]): Case {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const value: Case = { subject, body: bytes, headers, label };
  Object.defineProperty(value, fc.toStringMethod, { value: () => describeCase(value) });
  return value;
}

function describeCase(value: Case): string {
  const text = Buffer.from(value.body).toString('utf8');
  const preview =
    text.length > 160
      ? `${JSON.stringify(text.slice(0, 160))}… (${value.body.byteLength} bytes)`
      : JSON.stringify(text);
  const headers = value.headers ? ` headers=${JSON.stringify(value.headers).slice(0, 300)}` : '';
  return `[${value.label}] ${value.subject} ${preview}${headers}`;
}

/** Printable (no control characters), 1 to 255 characters: what the executor accepts in `Actor`. */
const ACTOR_HEADER = /^[^\p{Cc}]{1,255}$/u;

/**
 * A header as the executor reads it: nats.js keeps the last value of each exact name, trimmed; the
 * executor then takes the first name that matches whatever its case.
 */
function executorHeader(headers: Header[] | undefined, name: string): string | undefined {
  const record = new Map<string, string>();
  for (const [key, value] of headers ?? []) record.set(key, value.trim());
  return [...record].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

// ---- generators -------------------------------------------------------------------------------

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const slugArb = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/), weight: 4 },
  fc.constantFrom('a', 'A.b-c_d', 'x'.repeat(63), '0'),
);
/** Free text the schemas accept, U+0000 included (refused: PostgreSQL text cannot hold it). */
const textArb = (max: number) =>
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }),
      fc.string({ minLength: 1, maxLength: max, unit: 'grapheme-ascii' }),
      fc.constantFrom('é'.repeat(max), '\u202eevil', 'zero\u200bwidth', '😀'.repeat(Math.floor(max / 2))),
      fc.constantFrom('nul\u0000inside', '\u0000'),
    )
    .filter((text) => text.length >= 1 && text.length <= max);

/** Ids the valid-input property may aim at: real ones (filled in before it runs) and random ones. */
const pools = { instance: [] as string[], volume: [] as string[], project: [] as string[], execution: [] as string[] };

function validValue(kind: FieldKind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'uuid': {
      const known = [...pools.instance, ...pools.volume, ...pools.project, ...pools.execution];
      return fc.oneof(
        { arbitrary: fc.uuid(), weight: 3 },
        { arbitrary: fc.constantFrom(NIL_UUID, MAX_UUID), weight: 1 },
        ...(known.length > 0 ? [{ arbitrary: fc.constantFrom(...known), weight: 4 }] : []),
      );
    }
    case 'slug':
      return slugArb;
    case 'cloud':
      return fc.oneof({ arbitrary: fc.constant('default'), weight: 3 }, slugArb);
    case 'size':
      return fc.oneof(fc.integer({ min: 1, max: 16_384 }), fc.constantFrom(1, 16_384));
    case 'bool':
      return fc.boolean();
    case 'text63':
      return textArb(63);
    case 'text255':
      return textArb(255);
    case 'state':
      return fc.constantFrom(...RESOURCE_STATES);
    case 'status':
      return fc.constantFrom(...EXECUTION_STATUSES);
    case 'reason':
      return fc.constantFrom(...DEAD_LETTER_REASONS);
    case 'limit':
      return fc.integer({ min: 1, max: 500 });
    case 'offset':
      return fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, -0, 2 ** 31, Number.MAX_SAFE_INTEGER));
    case 'volumes':
      return fc.array(fc.record({ name: slugArb, size: fc.integer({ min: 1, max: 16_384 }) }), { maxLength: 3 });
    case 'retention':
      return fc.oneof(fc.integer({ min: 1, max: 365 }), fc.constant(null));
  }
}

function validInput(subject: string): fc.Arbitrary<Record<string, unknown>> {
  const fields = FIELDS[subject] ?? {};
  const model = Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, validValue(field.kind)]));
  const requiredKeys = Object.entries(fields)
    .filter(([, field]) => field.required)
    .map(([name]) => name);
  return fc.record(model, { requiredKeys });
}

/** Values of the wrong JSON type, or of the right type but outside what a field accepts. */
const wrongScalar = fc.constantFrom<unknown>(
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  5e-324,
  2 ** 53,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  'null',
  [],
  {},
  [null],
  { $ne: null },
  { __proto__: null },
);
const uuidNearMiss = fc
  .tuple(
    fc.uuid(),
    fc.constantFrom(
      (u: string) => u.slice(0, 14) + '0' + u.slice(15), // version 0
      (u: string) => u.slice(0, 14) + 'f' + u.slice(15), // version 15
      (u: string) => u.slice(0, 19) + '7' + u.slice(20), // wrong variant
      (u: string) => u.slice(0, 19) + 'c' + u.slice(20), // wrong variant
      (u: string) => u.replaceAll('-', ''),
      (u: string) => `{${u}}`,
      (u: string) => `urn:uuid:${u}`,
      (u: string) => `${u}0`,
      (u: string) => u.slice(1),
      (u: string) => `g${u.slice(1)}`,
      (u: string) => ` ${u} `,
      (u: string) => u.replace(/[0-9]/g, (digit) => String.fromCharCode(0xff10 + Number(digit))), // fullwidth digits
      (u: string) => `${u}\u0000`,
      (u: string) => `${u.slice(0, 35)}\u200b${u.slice(35)}`,
      (u: string) => u.replaceAll('-', '_'),
    ),
  )
  .map(([uuid, mutate]) => mutate(uuid));
const slugNearMiss = fc.constantFrom(
  '',
  ' a',
  'a b',
  '-a',
  '.a',
  '_a',
  'a'.repeat(64),
  'ａ',
  'a/b',
  'a\u0000',
  'é',
  '😀',
  'a\nb',
  '\u202ea',
  'a\u200b',
  'a;drop table ref_instance;--',
  "a'--",
);
const numberNearMiss = fc.constantFrom<unknown>(0, -1, 16_385, 1.5, 1e308, -0, 2 ** 53, 1e-7, '5', 501, -(2 ** 31));
const textNearMiss = fc.constantFrom('', 'x'.repeat(256), 'é'.repeat(256), '😀'.repeat(128));

function nearMiss(kind: FieldKind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'uuid':
      return uuidNearMiss;
    case 'slug':
    case 'cloud':
      return slugNearMiss;
    case 'size':
    case 'limit':
    case 'offset':
      return numberNearMiss;
    case 'text63':
    case 'text255':
      return textNearMiss;
    case 'state':
    case 'status':
    case 'reason':
      return fc.constantFrom('ok', 'OK ', 'running\u0000', 'DELETED', '');
    case 'bool':
      return fc.constantFrom<unknown>('true', 1, 0, 'false', null);
    case 'retention':
      return fc.constantFrom<unknown>(0, -1, 366, 1.5, '5', 1e308, true);
    case 'volumes':
      return fc.constantFrom<unknown>(
        [{ name: 'v', size: 0 }],
        [{ name: 'v' }],
        [{ name: 'v', size: 1, extra: 1 }],
        Array.from({ length: 17 }, (_, index) => ({ name: `v${index}`, size: 1 })),
        { name: 'v', size: 1 },
      );
  }
}

const POLLUTION_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '$where',
  '',
  ' id',
  'ID',
  'id\u0000',
];

/** One mutation of a valid input: a wrong-typed or near-miss field, an extra key, a missing key… */
function mutatedInput(subject: string): fc.Arbitrary<Case> {
  const fields = Object.entries(FIELDS[subject] ?? {});
  const base = validInput(subject);
  const variants: Array<fc.Arbitrary<Case>> = [
    // an unknown or prototype-polluting key, spliced into the JSON text (a JS object would lose "__proto__")
    fc
      .tuple(
        base,
        fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 })),
        fc.oneof(
          fc.constantFrom<unknown>({ polluted: true }, { prototype: { polluted: true } }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      )
      .map(([input, key, value]) => {
        const text = JSON.stringify(input);
        const extra = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
        return makeCase(
          subject,
          text === '{}' ? `{${extra}}` : `{${extra},${text.slice(1)}`,
          `extra key ${JSON.stringify(key)}`,
        );
      }),
    // the whole document is not an object
    base.chain((input) =>
      fc
        .constantFrom<unknown>([input], JSON.stringify(input), null, 42, true, [], 'string')
        .map((doc) => makeCase(subject, JSON.stringify(doc), 'not an object')),
    ),
  ];
  if (fields.length > 0) {
    const fieldArb = fc.constantFrom(...fields);
    variants.push(
      // a wrong type or a near miss for a known field
      fc
        .tuple(base, fieldArb)
        .chain(([input, [name, field]]) =>
          fc
            .oneof(wrongScalar, nearMiss(field.kind), fc.jsonValue({ maxDepth: 3 }))
            .map((value) => makeCase(subject, JSON.stringify({ ...input, [name]: value }), `field ${name}`)),
        ),
      // a required field missing, or null
      fc.tuple(base, fieldArb, fc.boolean()).map(([input, [name], asNull]) => {
        const copy: Record<string, unknown> = { ...input };
        if (asNull) copy[name] = null;
        else delete copy[name];
        return makeCase(subject, JSON.stringify(copy), asNull ? `null ${name}` : `without ${name}`);
      }),
      // duplicate keys: JSON.parse keeps the last one
      fc.tuple(base, fieldArb, nearMiss(fields[0]?.[1].kind ?? 'uuid')).map(([input, [name], value]) => {
        const text = JSON.stringify(input);
        return makeCase(
          subject,
          `{${JSON.stringify(name)}:${JSON.stringify(value)},${text.slice(1)}`,
          `duplicate ${name}`,
        );
      }),
    );
  }
  return fc.oneof(...variants);
}

/** Bodies of an exact byte size around the 256 KiB limit (and far above it), ASCII or multibyte. */
const nearLimit = fc
  .tuple(
    fc.constantFrom(-2, -1, 0, 1, 2, 64, MAX_COMMAND_BYTES, 1_000_000 - 2 * MAX_COMMAND_BYTES),
    fc.constantFrom('x', 'é', '😀', '\\u0000'),
    fc.constantFrom('json', 'raw'),
  )
  .map(([delta, unit, shape]) => {
    const size = MAX_COMMAND_BYTES + delta;
    const open = shape === 'json' ? '{"name":"' : '';
    const close = shape === 'json' ? '"}' : '';
    const room = size - Buffer.byteLength(open + close);
    const unitBytes = Buffer.byteLength(unit);
    const repeated = unit.repeat(Math.floor(room / unitBytes));
    const body = open + repeated + 'y'.repeat(room - Buffer.byteLength(repeated)) + close;
    return { body, label: `${size} bytes of ${JSON.stringify(unit)} (${shape})` };
  });

const deepNesting = fc
  .tuple(
    fc.constantFrom(10, 1000, 10_000, 100_000, 130_000),
    fc.constantFrom('array', 'object', 'in field', 'unclosed'),
  )
  .map(([depth, shape]) => {
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    const body =
      shape === 'array'
        ? arrays
        : shape === 'object'
          ? '{"a":'.repeat(Math.min(depth, 52_000)) + 'null' + '}'.repeat(Math.min(depth, 52_000))
          : shape === 'in field'
            ? `{"id":${arrays}}`
            : '['.repeat(depth);
    return { body, label: `nesting ${depth} (${shape})` };
  });

const INVALID_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
].map((bytes) => Buffer.from(bytes));

/** Bytes that are not JSON, or not quite: invalid UTF-8, truncation, JSON5-isms, emptiness. */
function rawBytes(subject: string): fc.Arbitrary<Case> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((bytes) => makeCase(subject, bytes, 'random bytes')),
    fc.tuple(validInput(subject), fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([input, bad, at]) => {
      const text = Buffer.from(JSON.stringify(input));
      const cut = at % (text.length + 1);
      return makeCase(subject, Buffer.concat([text.subarray(0, cut), bad, text.subarray(cut)]), 'invalid UTF-8 inside');
    }),
    fc.tuple(validInput(subject), fc.nat()).map(([input, at]) => {
      const text = JSON.stringify(input);
      return makeCase(subject, text.slice(0, at % text.length), 'truncated');
    }),
    fc
      .constantFrom(
        '',
        ' ',
        '\t\r\n',
        '\uFEFF{}',
        '{}x',
        '{}{}',
        '\u0000{}',
        "{id:'x'}",
        '{"id":"x",}',
        '// comment\n{}',
        'NaN',
        '{"size":NaN}',
        '{"size":Infinity}',
        '{"size":-Infinity}',
        '{"size":0x10}',
        '{"size":01}',
        '{"size":1e999}',
        '{"limit":-0}',
        '{"offset":-0}',
        'null',
        'true',
        '0',
        '"string"',
        '[]',
        '{"a":1}'.repeat(1000),
      )
      .map((body) => makeCase(subject, body, 'not quite JSON')),
  );
}

/** Header values: odd lengths around 255, odd characters; never CR or LF (they frame headers). */
const headerValue = fc
  .oneof(
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.string({ minLength: 250, maxLength: 260, unit: 'grapheme-ascii' }),
    fc.constantFrom('', ' ', '  padded  ', 'é'.repeat(200), '😀'.repeat(100), 'a'.repeat(255), '\u200b', 'ключ'),
    fc.constantFrom('a'.repeat(256), 'é'.repeat(256), 'x'.repeat(2000), 'nul\u0000inside'),
    fc.string({ maxLength: 300, unit: 'binary' }),
  )
  .map((value) => value.replace(/[\r\n]/g, ''));
/** Header names: tokens (printable ASCII but ':'), and names the server takes but nats.js cannot parse. */
const headerName = fc.oneof(
  fc.stringMatching(/^[!-9;-~]{1,20}$/),
  fc.constantFrom('idempotency-key', 'IDEMPOTENCY-KEY', 'actor', 'Nats-Msg-Id', 'traceparent', 'Nats-Expected-Stream'),
  fc.constantFrom('Bad Key', 'clé', 'a b c'),
);
const headersArb: fc.Arbitrary<Header[] | undefined> = fc.option(
  fc.array(
    fc.oneof(
      fc.tuple(fc.constant('Idempotency-Key'), headerValue),
      fc.tuple(fc.constant('Actor'), headerValue),
      fc.tuple(headerName, headerValue),
    ),
    { maxLength: 4 },
  ),
  { freq: 2 },
);

const unknownSubject = fc
  .oneof(
    fc
      .tuple(fc.constantFrom('cmd', 'query'), fc.stringMatching(/^[a-z_]{1,12}$/), fc.stringMatching(/^[a-z_]{1,12}$/))
      .map((parts) => parts.join('.')),
    fc.constantFrom(
      'cmd.Instance.create',
      'cmd.instance.CREATE',
      'cmd.instance.create.extra',
      'query.instance',
      'cmd.instance',
      'query.execution.get.x',
      'cmd.execution.get',
      'query.instance.create',
    ),
  )
  .filter((subject) => !definitions.has(subject));

/** A hostile request on any subject: mostly invalid, occasionally valid by chance. */
const hostileCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom(...SUBJECTS).chain((subject) =>
      fc.oneof(
        { arbitrary: mutatedInput(subject), weight: 6 },
        { arbitrary: rawBytes(subject), weight: 3 },
        {
          arbitrary: fc
            .jsonValue({ maxDepth: 4 })
            .map((value) => makeCase(subject, JSON.stringify(value) ?? 'null', 'random JSON')),
          weight: 3,
        },
        {
          arbitrary: fc
            .jsonValue({ maxDepth: 3, stringUnit: 'binary' })
            .map((value) => makeCase(subject, JSON.stringify(value) ?? 'null', 'random unicode JSON')),
          weight: 1,
        },
        { arbitrary: nearLimit.map(({ body, label }) => makeCase(subject, body, label)), weight: 1 },
        { arbitrary: deepNesting.map(({ body, label }) => makeCase(subject, body, label)), weight: 1 },
      ),
    ),
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: unknownSubject, weight: 1 }),
    headersArb,
  )
  .map(([generated, otherSubject, headers]) =>
    makeCase(otherSubject ?? generated.subject, generated.body, generated.label, headers ?? undefined),
  );

/** Input the schemas accept, with odd headers. */
const validCase: fc.Arbitrary<Case> = fc
  .constantFrom(...SUBJECTS)
  .chain((subject) =>
    fc
      .tuple(validInput(subject), headersArb)
      .map(([input, headers]) => makeCase(subject, JSON.stringify(input), 'valid', headers ?? undefined)),
  );

// ---- the stack --------------------------------------------------------------------------------

let stack: Stack;
let executor: ServiceProcess;
let raw: RawNats;
const tally = { requests: 0, byCode: {} as Record<string, number> };

before(async () => {
  stack = await Stack.start();
  // Thousands of requests from one caller as fast as they go: the rate limit has its own tests.
  executor = await stack.spawn('executor', {
    env: { JETCEL_RATE_LIMIT_PER_SECOND: '100000', JETCEL_RATE_LIMIT_BURST: '100000' },
  });
  raw = await RawNats.connect(stack.nats.url);
});
after(async () => {
  log('reply codes', { requests: tally.requests, ...tally.byCode });
  raw?.close();
  await stack?.stop();
});

/** Sends one case and checks the envelope; returns the reply for further checks. */
async function send(value: Case): Promise<Reply> {
  const reply = await raw.request(
    value.subject,
    value.body,
    value.headers ? headerBlock(value.headers) : undefined,
    15_000,
  );
  tally.requests++;
  const problem = envelopeProblem(reply);
  assert.equal(problem, undefined, `${problem ?? ''}: ${describeCase(value)}`);
  const envelope = parseReply(reply!);
  const code = envelope.ok ? 'ok' : envelope.error.code;
  tally.byCode[code] = (tally.byCode[code] ?? 0) + 1;
  return envelope;
}

function summary(envelope: Reply): string {
  return JSON.stringify(envelope.ok ? { ok: true } : envelope.error).slice(0, 300);
}

/** Requests of the memory test after its warm-up (JETCEL_FUZZ_LOAD; a longer run shows the trend). */
const LOAD = Number(process.env.JETCEL_FUZZ_LOAD ?? 2000);

const DOMAIN_ERRORS: ReadonlySet<string> = new Set([
  'NOT_FOUND',
  'INVALID_STATE',
  'VALIDATION_FAILED',
  'IDEMPOTENCY_CONFLICT',
]);

/** The property for one case: the reply matches what the input deserves. */
async function check(value: Case): Promise<'rejected' | 'valid'> {
  const expected = expectationFor(value.subject, value.body, value.headers);
  const envelope = await send(value);
  if (expected.kind === 'rejected') {
    assert.ok(!envelope.ok, `accepted: ${describeCase(value)}`);
    assert.equal(envelope.error.code, expected.code, `${summary(envelope)} for ${describeCase(value)}`);
    assert.equal(envelope.error.retryable, false);
    return 'rejected';
  }
  assert.ok(
    envelope.ok || DOMAIN_ERRORS.has(envelope.error.code),
    `valid input answered ${summary(envelope)}: ${describeCase(value)}`,
  );
  return 'valid';
}

// ---- the properties ---------------------------------------------------------------------------

test('the executor serves the documented subjects, and the fuzzers cover every subject it serves', () => {
  const line = executor.output().find((entry) => entry.includes('"executor ready"'));
  assert.ok(line, 'the ready line');
  const announced = [...(JSON.parse(line) as { subjects: string[] }).subjects].sort();
  assert.deepEqual(
    DOCUMENTED_SUBJECTS.filter((subject) => !announced.includes(subject)),
    [],
    'documented subjects the executor does not serve',
  );
  assert.deepEqual(announced, SUBJECTS, 'the oracle (and so the fuzzers) knows every subject the executor serves');
  assert.deepEqual(
    SUBJECTS.filter((subject) => !FIELDS[subject]),
    [],
    'a field model for every subject',
  );
  log('subjects', {
    served: announced.length,
    beyondTheBrief: announced.filter((s) => !DOCUMENTED_SUBJECTS.includes(s)),
  });
});

test(`G1: hostile payloads and headers on every subject get one well-formed rejection and write nothing (seed ${FUZZ_SEED})`, async () => {
  const started = performance.now();
  const before = await tableCounts(stack);
  const seen = { rejected: 0, validQueries: 0, skippedValidCommands: 0 };
  await fc.assert(
    fc.asyncProperty(hostileCase, async (value) => {
      const expected = expectationFor(value.subject, value.body, value.headers);
      if (expected.kind === 'valid' && expected.command) {
        // a command that happens to be valid would write: the next property covers those
        seen.skippedValidCommands++;
        fc.pre(false);
      }
      const outcome = await check(value);
      if (outcome === 'rejected') seen.rejected++;
      else seen.validQueries++;
    }),
    { seed: FUZZ_SEED, numRuns: 3000, includeErrorInReport: true },
  );
  await raw.flush();
  await sleep(300);
  assert.deepEqual(raw.duplicates(), [], 'exactly one reply per request');
  assert.deepEqual(await tableCounts(stack), before, 'rejected input wrote nothing');
  assert.ok(isRunning(executor), 'the executor is still running');
  log('hostile property', { ...seen, ms: Math.round(performance.now() - started) });
});

test(`G1: schema-valid payloads get ok or a domain error, never INTERNAL (seed ${FUZZ_SEED})`, async () => {
  const started = performance.now();
  // Real resources and executions to aim at (no workers run: they stay scheduled).
  const instance = await stack.ok<{ id: string; executionId: string; volumeIds: string[] }>('cmd.instance.create', {
    name: 'fuzz-vm',
    cloudSettingsId: 'default',
    volumes: [{ name: 'fuzz-disk', size: 1 }],
  });
  const volume = await stack.ok<{ id: string; executionId: string }>('cmd.volume.create', {
    name: 'fuzz-vol',
    cloudSettingsId: 'default',
    size: 2,
  });
  const project = await stack.ok<{ id: string }>('cmd.project.create', { name: 'fuzz-project' });
  pools.instance.push(instance.id);
  pools.volume.push(volume.id, ...instance.volumeIds);
  pools.project.push(project.id);
  pools.execution.push(instance.executionId, volume.executionId);
  let ok = 0;
  await fc.assert(
    fc.asyncProperty(validCase, async (value) => {
      const expected = expectationFor(value.subject, value.body, value.headers);
      fc.pre(expected.kind === 'valid'); // text of 255 graphemes can exceed 255 UTF-16 units
      await check(value);
      ok++;
    }),
    { seed: FUZZ_SEED, numRuns: 800, includeErrorInReport: true },
  );
  await raw.flush();
  await sleep(300);
  assert.deepEqual(raw.duplicates(), [], 'exactly one reply per request');
  assert.ok(isRunning(executor), 'the executor is still running');
  log('valid property', { checked: ok, ms: Math.round(performance.now() - started) });
});

test(`G2: ${LOAD.toLocaleString('en')} hostile requests keep the executor alive, answering, and its RSS flat (seed ${FUZZ_SEED})`, async () => {
  const started = performance.now();
  const hostile = (count: number, seed: number) =>
    fc.sample(hostileCase, { seed, numRuns: count * 2 }).filter((value) => {
      const expected = expectationFor(value.subject, value.body, value.headers);
      return expected.kind === 'rejected' || !expected.command;
    });
  const warmUp = hostile(300, FUZZ_SEED + 1).slice(0, 300);
  const load = hostile(LOAD, FUZZ_SEED + 2).slice(0, LOAD);
  assert.equal(load.length, LOAD);
  const blast = async (cases: Case[], concurrency: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cases.length) await check(cases[next++]!);
      }),
    );
  };
  const counts = await tableCounts(stack);
  const rss: Record<string, number> = { start: rssKiB(executor.pid) };
  await blast(warmUp, 16);
  await sleep(500);
  rss.afterWarmUp = rssKiB(executor.pid);
  for (let part = 0; part * 500 < LOAD; part++) {
    await blast(load.slice(part * 500, (part + 1) * 500), 16);
    rss[`after${(part + 1) * 500}`] = rssKiB(executor.pid);
  }
  await sleep(1000);
  rss.settled = rssKiB(executor.pid);
  const growthMiB = (rss.settled - rss.afterWarmUp) / 1024;
  const bytes = load.reduce((total, value) => total + value.body.byteLength, 0);
  log('executor RSS (KiB)', {
    ...rss,
    growthMiB: Number(growthMiB.toFixed(1)),
    loadMiB: Number((bytes / 2 ** 20).toFixed(1)),
  });
  await raw.flush();
  await sleep(300);
  assert.deepEqual(raw.duplicates(), [], 'exactly one reply per request');
  assert.ok(isRunning(executor), 'the executor is still running');
  assert.deepEqual(await tableCounts(stack), counts, 'rejected input wrote nothing');
  const missing = await send(makeCase('query.instance.get', JSON.stringify({ id: NIL_UUID }), 'liveness'));
  assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND', 'it still answers');
  assert.ok(growthMiB < 50, `RSS grew ${growthMiB.toFixed(1)} MiB over ${LOAD} hostile requests`);
  const unexpected = executor.output().filter((line) => line.includes('"request handling failed"'));
  assert.deepEqual(unexpected, [], 'no request escaped the dispatcher');
  log('load', { ms: Math.round(performance.now() - started) });
});

// ---- regressions: inputs the fuzzers once found mishandled --------------------------------------

async function expectValidationFailed(subject: string, body: unknown, headers?: Header[]): Promise<void> {
  const reply = await send(makeCase(subject, JSON.stringify(body), 'regression', headers));
  assert.equal(reply.ok ? 'ok' : reply.error.code, 'VALIDATION_FAILED', `${subject} ${summary(reply)}`);
}

test('U+0000 in a free-text field is VALIDATION_FAILED, not a retryable INTERNAL', async () => {
  await expectValidationFailed('query.execution.list', { resourceType: 'a\u0000' });
  await expectValidationFailed('query.execution.list', { resourceId: 'a\u0000b' });
  await expectValidationFailed('cmd.cloud_settings.create', { id: 'nul-name', name: 'a\u0000' });
});

test('U+0000 in an Idempotency-Key is VALIDATION_FAILED, not a retryable INTERNAL', async () => {
  await expectValidationFailed('cmd.project.create', { name: 'nul-key' }, [['Idempotency-Key', 'a\u0000b']]);
});

test('an Actor header longer than 255 characters or with U+0000 does not give INTERNAL', async () => {
  for (const actor of ['x'.repeat(256), 'a\u0000b']) {
    const reply = await send(
      makeCase('cmd.instance.create', JSON.stringify({ name: 'actor-vm', cloudSettingsId: 'default' }), 'regression', [
        ['Actor', actor],
      ]),
    );
    assert.ok(
      reply.ok || reply.error.code === 'VALIDATION_FAILED',
      `Actor ${JSON.stringify(actor.slice(0, 20))}: ${summary(reply)}`,
    );
  }
});

test('a request whose header name nats.js cannot parse still gets one error envelope', async () => {
  for (const name of ['Bad Key', 'clé']) {
    const reply = await raw.request(
      'query.instance.get',
      Buffer.from(JSON.stringify({ id: NIL_UUID })),
      headerBlock([[name, 'v']]),
      3000,
    );
    assert.equal(envelopeProblem(reply), undefined, `header name ${JSON.stringify(name)}`);
  }
});

test('cmd.cloud_settings.create on an existing id does not answer ok with a name it did not store', async () => {
  const reply = await send(
    makeCase('cmd.cloud_settings.create', JSON.stringify({ id: 'default', name: 'renamed-by-fuzz' }), 'regression'),
  );
  const [row] = await stack.sql<{ name: string }>("select name from ref_cloud_settings where id = 'default'");
  if (reply.ok) assert.equal(dataOf<{ name: string }>(reply).name, row?.name, 'the reply shows what is stored');
  else assert.ok(DOMAIN_ERRORS.has(reply.error.code), summary(reply));
});
