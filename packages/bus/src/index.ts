export { connectBus } from './connection.ts';
export type { Bus, BusStatusEvent, ConnectBusOptions } from './connection.ts';
export {
  BUS_ERROR_CODES,
  BusError,
  StreamFullError,
  NoStreamError,
  PublishTimeoutError,
  NoRespondersError,
  RequestTimeoutError,
  BadReplyError,
  TopologyDriftError,
} from './errors.ts';
export type { BusErrorCode, TopologyDrift } from './errors.ts';
export { defineTopology } from './topology.ts';
export type { Topology, StreamSpec, ConsumerSpec, DefineTopologyOptions } from './topology.ts';
export type { FieldDiff } from './topology-config.ts';
export { applyTopology } from './topology-apply.ts';
export type { TopologyReport, TopologyChange } from './topology-apply.ts';
export { verifyTopology, effectiveAckWaitMs } from './topology-verify.ts';
export type { VerifyTopologyOptions } from './topology-verify.ts';
export { publish, publishCore } from './publish.ts';
export type { PublishOptions, PublishResult } from './publish.ts';
export { startConsumer } from './consume.ts';
export type { StartConsumerOptions, ConsumerHandle } from './consume.ts';
export type { ConsumerStats } from './slot-puller.ts';
export type { Delivery, Disposition } from './delivery.ts';
export { Heartbeats } from './heartbeats.ts';
export type { Beat, BeatOwner } from './heartbeats.ts';
export { serveRequests, requestJson, DEFAULT_MAX_IN_FLIGHT } from './request.ts';
export type {
  IncomingRequest,
  ServeRequestsOptions,
  RequestServer,
  RequestJsonOptions,
  RefusedRequest,
} from './request.ts';
export {
  DEFAULT_REPLY_PREFIXES,
  MAX_REPLY_SUBJECT_LENGTH,
  InvalidReplyPrefixError,
  replyPrefix,
  parseReplyPrefixes,
  isInboxReply,
  boundedSubject,
} from './reply-subject.ts';
export { subscribeCore, readStreamMessages, streamInfo, consumerInfo } from './events.ts';
export type { CoreMessage, StoredMessage, StreamSummary, ConsumerSummary } from './events.ts';
export { Leases, readLeases } from './leases.ts';
export type { LeaseHolder, HeldLease, LeaseEntry, LeaseSnapshot } from './leases.ts';
export type { BucketSpec } from './topology-buckets.ts';
export { streamStats, bucketEntries } from './operator-stats.ts';
export type { LeaseKeyView } from './operator-stats.ts';
