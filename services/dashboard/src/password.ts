// Password hashes for JETCEL_DASHBOARD_USERS: scrypt, self-describing, and free of ":", "," and "$"
// so a hash sits in a user list and in compose.yaml without quoting or escaping.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const PREFIX = 'scrypt';
const KEY_LENGTH = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 } as const;
const HASH_PATTERN = /^scrypt\.(\d+)\.(\d+)\.(\d+)\.([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{16,})$/;

interface Cost {
  N: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, cost: Cost, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt.<N>.<r>.<p>.<salt>.<key>` (base64url salt and key). */
export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new TypeError('A password cannot be empty');
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULTS, KEY_LENGTH);
  return [PREFIX, DEFAULTS.N, DEFAULTS.r, DEFAULTS.p, salt.toString('base64url'), key.toString('base64url')].join('.');
}

export function isPasswordHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}

/** Constant-time comparison of a password with a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH_PATTERN.exec(hash);
  if (!match) return false;
  const [, n, r, p, salt = '', key = ''] = match;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    { N: Number(n), r: Number(r), p: Number(p) },
    expected.length,
  );
  return timingSafeEqual(actual, expected);
}
