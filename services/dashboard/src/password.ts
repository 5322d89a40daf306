// Password hashes for JETCEL_DASHBOARD_USERS: scrypt, self-describing, and free of ":", "," and "$"
// so a hash sits in a user list and in compose.yaml without quoting or escaping.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const PREFIX = 'scrypt';
const KEY_LENGTH = 32;
/** The cost of new hashes: N = 2^17 (128 MiB, a few hundred ms per check). Older hashes still verify. */
export const PASSWORD_COST = { N: 2 ** 17, r: 8, p: 1 } as const;
const HASH_PATTERN = /^scrypt\.(\d+)\.(\d+)\.(\d+)\.([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{16,})$/;
// A hash asking for more than this (2^20, 1 GiB) is refused rather than computed.
const MAX_N = 2 ** 20;

interface Cost {
  N: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, cost: Cost, length: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node refuses above maxmem (32 MiB by default), so give twice that.
  const maxmem = 256 * cost.N * cost.r * cost.p;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...cost, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function costOf(hash: string): Cost | null {
  const match = HASH_PATTERN.exec(hash);
  if (!match) return null;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const powerOfTwo = N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || r < 1 || r > 32 || p < 1 || p > 16) return null;
  return { N, r, p };
}

/** `scrypt.<N>.<r>.<p>.<salt>.<key>` (base64url salt and key). */
export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new TypeError('A password cannot be empty');
  const salt = randomBytes(16);
  const key = await derive(password, salt, PASSWORD_COST, KEY_LENGTH);
  const { N, r, p } = PASSWORD_COST;
  return [PREFIX, N, r, p, salt.toString('base64url'), key.toString('base64url')].join('.');
}

export function isPasswordHash(value: string): boolean {
  return costOf(value) !== null;
}

/** A valid hash made at another cost than today's (e.g. the older N = 16384): re-hash it at login. */
export function isOutdatedHash(hash: string): boolean {
  const cost = costOf(hash);
  return cost !== null && (cost.N !== PASSWORD_COST.N || cost.r !== PASSWORD_COST.r || cost.p !== PASSWORD_COST.p);
}

/** Constant-time comparison of a password with a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH_PATTERN.exec(hash);
  const cost = costOf(hash);
  if (!match || !cost) return false;
  const [, , , , salt = '', key = ''] = match;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), cost, expected.length);
  return timingSafeEqual(actual, expected);
}
