// Prints a password hash for JETCEL_DASHBOARD_USERS. The password is read from standard input (one
// line, so it stays out of shell history and `ps`): `pnpm --silent --filter @jetcel/dashboard-service
// hash-password`, or `printf %s "$PASSWORD" | …`.
import { createInterface } from 'node:readline';
import { hashPassword } from './password.ts';

const input = createInterface({ input: process.stdin, terminal: false });
if (process.stdin.isTTY) process.stderr.write('Password: ');
let password: string | undefined;
for await (const line of input) {
  password = line;
  break;
}
input.close();
if (!password) {
  process.stderr.write('hash-password: no password on standard input\n');
  process.exit(1);
}
process.stdout.write(`${await hashPassword(password)}\n`);
