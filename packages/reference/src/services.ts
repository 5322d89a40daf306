import type { CloudClient } from './cloud-client.ts';

/** What the reference domain's tasks need from the worker that runs them. */
export interface ReferenceServices {
  cloud: CloudClient;
}
