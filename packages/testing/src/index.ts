export { startNats, type NatsServerHandle, type StartNatsOptions } from './nats-server.ts';
export {
  startNatsCluster,
  type MetaClusterView,
  type NatsCluster,
  type NatsClusterNode,
  type StartNatsClusterOptions,
} from './nats-cluster.ts';
export { createTestDatabase, type CreateTestDatabaseOptions, type TestDatabase } from './test-database.ts';
export { dropStaleTestDatabases, type DropStaleOptions } from './stale-databases.ts';
export { startPostgresCluster, type PostgresCluster, type PostgresStopMode } from './postgres-cluster.ts';
export { spawnService, type ServiceProcess, type SpawnServiceOptions } from './spawn-service.ts';
export { eventually, type EventuallyOptions, type EventuallyProbe } from './eventually.ts';
export { freePort } from './free-port.ts';
export { queryRows } from './query-rows.ts';
export { perTestFile } from './per-test-file.ts';
