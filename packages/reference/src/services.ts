import type { RetentionServices } from '@jetcel/runtime';
import type { CloudClient } from './cloud-client.ts';

/** What the reference domain's tasks need from the worker that runs them (and `retention`, for jetcel.prune). */
export interface ReferenceServices extends RetentionServices {
  cloud: CloudClient;
}
