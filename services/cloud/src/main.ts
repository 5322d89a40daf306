import { readCloudEnv, type CloudEnvOptions } from './env.ts';
import { urlHost } from './host.ts';
import { startCloud, type RunningCloud } from './server.ts';

function fail(error: unknown): never {
  process.stderr.write(`cloud: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

let options: CloudEnvOptions;
let cloud: RunningCloud | undefined;
let stopping = false;

// Watched before start-up, so a signal that arrives early is not lost (the default would kill us).
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) {
    process.stderr.write(`cloud: ${signal} again, exiting now\n`);
    process.exit(1);
  }
  stopping = true;
  if (!cloud) process.exit(0);
  cloud.close().then(
    () => process.exit(0),
    (error: unknown) => fail(error),
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

try {
  options = readCloudEnv(process.env);
  cloud = await startCloud(options);
} catch (error) {
  fail(error);
}

process.stdout.write(`cloud listening on http://${urlHost(options.host)}:${cloud.port}\n`);
