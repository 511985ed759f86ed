// CLI for the Service Bus stand-in (a development tool): starts it from environment variables and
// stops it cleanly on SIGINT/SIGTERM. `node dist/local/serviceBus/main.js`.
//
//   SERVICEBUS_STANDIN_PORT    port on 127.0.0.1 (default 5672, where the SDK looks for an emulator
//                              when the connection string gives no port)
//   SERVICEBUS_STANDIN_QUEUES  comma-separated queue names (default OUTBOUND_QUEUE_NAME, else sms-outbound),
//                              each with the outbound queue's settings from infra/modules/servicebus.bicep
//   SERVICEBUS_STANDIN_KEY_NAME / SERVICEBUS_STANDIN_KEY   the SAS policy (default: the Service Bus
//                              emulator's RootManageSharedAccessKey / SAS_KEY_VALUE)
import { EMULATOR_KEY, EMULATOR_KEY_NAME, startServiceBusStandIn } from './server.js';

function fail(message: string): never {
  console.error(`service-bus-standin: ${message}`);
  process.exit(2);
}

const rawPort = process.env.SERVICEBUS_STANDIN_PORT ?? '5672';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`SERVICEBUS_STANDIN_PORT must be a port number, got "${rawPort}"`);
const queues = (process.env.SERVICEBUS_STANDIN_QUEUES ?? process.env.OUTBOUND_QUEUE_NAME ?? 'sms-outbound')
  .split(',')
  .map((q) => q.trim())
  .filter(Boolean);
if (queues.length === 0) fail('SERVICEBUS_STANDIN_QUEUES names no queue');

try {
  const standIn = await startServiceBusStandIn({
    port,
    keyName: process.env.SERVICEBUS_STANDIN_KEY_NAME || EMULATOR_KEY_NAME,
    key: process.env.SERVICEBUS_STANDIN_KEY || EMULATOR_KEY,
    queues: queues.map((name) => ({ name })),
    log: (line) => console.log(line),
  });
  console.log(`service-bus-standin: ServiceBusConnection=${standIn.connectionString}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`service-bus-standin: ${signal}, stopping`);
    await standIn.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
