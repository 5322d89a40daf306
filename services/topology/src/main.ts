import { applyTopology, connectBus, defineTopology } from '@jetcel/bus';
import { createLogger, serviceConfigFromEnv } from '@jetcel/runtime';

// One-shot job with the admin credential: creates or updates streams and consumers, then exits.
const logger = createLogger({ bindings: { service: 'topology' } });
const config = serviceConfigFromEnv();
const bus = await connectBus({
  servers: config.natsUrl,
  name: 'topology',
  ...(config.natsUser ? { user: config.natsUser } : {}),
  ...(config.natsPass ? { pass: config.natsPass } : {}),
});
try {
  const report = await applyTopology(bus, defineTopology(config.topology));
  logger.info('topology applied', { report });
} finally {
  await bus.close();
}
