#!/usr/bin/env node
// The `jetcel` executable: the CLI is TypeScript run with tsx, like the services.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
