import { validationFailed } from './errors.ts';
import {
  optionalBoolean,
  optionalInteger,
  optionalOneOf,
  optionalText,
  requireInteger,
  requireObject,
  requireOneOf,
  requireText,
} from './fields.ts';
import type {
  BarrierInput,
  BarrierOp,
  CloudDelays,
  CreateServerInput,
  CreateSnapshotInput,
  CreateVolumeInput,
  FaultMode,
  FaultOp,
  FaultResource,
  FaultRuleInput,
  RenameServerInput,
  ServerAction,
} from './types.ts';

/** Turns parsed JSON bodies into typed inputs; unknown fields are ignored. */

const FAULT_OPS: readonly FaultOp[] = ['create', 'delete', 'get', 'action', 'update', 'build', 'snapshot'];
const FAULT_MODES: readonly FaultMode[] = ['error', 'timeout', 'http500', 'delay'];
const MAX_FAULT_DELAY_MS = 600_000;
const FAULT_RESOURCES: readonly FaultResource[] = ['server', 'volume'];
const BARRIER_OPS: readonly BarrierOp[] = ['build', 'volume-create', 'volume-extend'];
const MAX_BARRIER_SIZE = 10_000;
const ACTIONS: readonly ServerAction['action'][] = ['resize', 'start', 'stop'];
const MAX_VOLUME_GIB = 65_536;
const MAX_DELAY_MS = 3_600_000;

/** Assigns only the defined values, so that absent fields stay absent. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

export function parseCreateServer(body: unknown): CreateServerInput {
  const object = requireObject(body);
  return defined({
    name: requireText(object, 'name'),
    settingsId: requireText(object, 'settingsId'),
    flavor: optionalText(object, 'flavor'),
    imageId: optionalText(object, 'imageId'),
  });
}

export function parseRenameServer(body: unknown): RenameServerInput {
  return { name: requireText(requireObject(body), 'name') };
}

export function parseServerAction(body: unknown): ServerAction {
  const object = requireObject(body);
  const action = requireOneOf(object, 'action', ACTIONS);
  if (action === 'resize') return { action, flavor: requireText(object, 'flavor') };
  return { action };
}

export function parseCreateSnapshot(body: unknown): CreateSnapshotInput {
  return { name: requireText(requireObject(body), 'name') };
}

export function parseCreateVolume(body: unknown): CreateVolumeInput {
  const object = requireObject(body);
  return defined({
    name: requireText(object, 'name'),
    settingsId: requireText(object, 'settingsId'),
    size: requireInteger(object, 'size', 1, MAX_VOLUME_GIB),
    serverId: optionalText(object, 'serverId'),
  });
}

export function parseExtendVolume(body: unknown): number {
  return requireInteger(requireObject(body), 'size', 1, MAX_VOLUME_GIB);
}

export function parseFaultRule(body: unknown): FaultRuleInput {
  const object = requireObject(body);
  const rule = defined({
    op: requireOneOf(object, 'op', FAULT_OPS),
    mode: requireOneOf(object, 'mode', FAULT_MODES),
    settingsId: optionalText(object, 'settingsId'),
    resource: optionalOneOf(object, 'resource', FAULT_RESOURCES),
    message: optionalText(object, 'message'),
    count: optionalInteger(object, 'count', 1),
    statusCode: optionalInteger(object, 'statusCode', 400, 599),
    applied: optionalBoolean(object, 'applied'),
    delayMs: optionalInteger(object, 'delayMs', 1, MAX_FAULT_DELAY_MS),
  });
  if (rule.mode === 'delay') {
    if (rule.delayMs === undefined) throw validationFailed('"delayMs" is required with mode delay');
    if (rule.statusCode !== undefined) throw validationFailed('"statusCode" does not apply to mode delay');
    if (rule.applied === true) throw validationFailed('"applied" does not apply to mode delay (it always applies)');
  } else if (rule.delayMs !== undefined) {
    throw validationFailed('"delayMs" is only allowed with mode delay');
  }
  return rule;
}

export function parseBarrier(body: unknown): BarrierInput {
  const object = requireObject(body);
  return defined({
    op: requireOneOf(object, 'op', BARRIER_OPS),
    settingsId: optionalText(object, 'settingsId'),
    size: requireInteger(object, 'size', 1, MAX_BARRIER_SIZE),
  });
}

export function parseConfigPatch(body: unknown): Partial<CloudDelays> {
  const object = requireObject(body);
  return defined({
    buildDelayMs: optionalInteger(object, 'buildDelayMs', 0, MAX_DELAY_MS),
    deleteDelayMs: optionalInteger(object, 'deleteDelayMs', 0, MAX_DELAY_MS),
    actionDelayMs: optionalInteger(object, 'actionDelayMs', 0, MAX_DELAY_MS),
    snapshotDelayMs: optionalInteger(object, 'snapshotDelayMs', 0, MAX_DELAY_MS),
  });
}
