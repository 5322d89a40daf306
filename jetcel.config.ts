// The domains this deployment runs (docs/configuration.md "Domains"): package names installed at
// the repository root, or paths relative to this file. JETCEL_DOMAINS, when set, wins over this list.
export default {
  domains: ['@jetcel/reference', '@jetcel/example-dns'],
};
