import type { FakeDnsProvider } from './provider.ts';

/** What the DNS tasks find in `ctx.services`. */
export interface DnsServices {
  dns: FakeDnsProvider;
}
