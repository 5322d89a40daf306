import { z } from 'zod';

export const EVENT_VERSION = 1;

/** Body of events.<resourceType>.<resourceId>.<event>: one per committed transition. */
export const resourceEventSchema = z.object({
  v: z.number().int().positive(),
  eventId: z.uuid(),
  resourceType: z.string(),
  resourceId: z.string(),
  resourceVersion: z.number().int(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  executionId: z.string().nullable(),
  actor: z.string().nullable(),
  at: z.string(),
  error: z.string().optional(),
});

export type ResourceEvent = z.infer<typeof resourceEventSchema>;

export const EVENT_NAMES = { stateChanged: 'state_changed', deleted: 'deleted' } as const;
