import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/output.js';
import { createOrderBus } from '../../src/core/bus/create-order-bus.js';
import { createMysqlDeadLetterQueue, dlqTablesDdl } from '../../src/core/bus/dlq.js';
import { createEnvelope } from '../../src/core/bus/envelope.js';
import type { OrderBus } from '../../src/core/bus/order-bus.js';
import { type Config, parseConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { MysqlPools } from '../../src/core/mysql-pools.js';
import { initShards, routerForConfig } from '../../src/core/shard-admin.js';
import type { StatusReport } from '../../src/workers/status-report.js';
import { eventually, KAFKA_TEST_SETTINGS } from '../helpers/bus-fixture.js';
import { Collector } from '../helpers/collector.js';
import { dropDatabases, KAFKA_BROKERS, MYSQL_URL, REDIS_URL, uniqueName } from '../helpers/services.js';
import { accountOrders } from '../helpers/sync-fakes.js';

// The sink group's lag as `tradectl status` reads it from the brokers (committed offsets against
// high watermarks): own topic and group on the local broker, 2 x 4 layout.
const PREFIX = uniqueName('sk');
const ENV = {
  TRADECTL_MYSQL_URL: MYSQL_URL,
  TRADECTL_REDIS_URL: REDIS_URL,
  TRADECTL_KAFKA_BROKERS: KAFKA_BROKERS.join(','),
};
const RAW = {
  mysql: { databasePrefix: PREFIX },
  redis: { keyPrefix: `${PREFIX}:` },
  shards: { databases: 2, tablesPerDatabase: 4 },
  kafka: {
    ordersTopic: `${PREFIX}.orders`,
    dlqTopic: `${PREFIX}.dlq`,
    sinkGroupId: `${PREFIX}-sink`,
    sessionTimeoutMs: KAFKA_TEST_SETTINGS.sessionTimeoutMs,
    heartbeatIntervalMs: KAFKA_TEST_SETTINGS.heartbeatIntervalMs,
    maxWaitTimeMs: KAFKA_TEST_SETTINGS.maxWaitTimeMs,
  },
};

let dir: string;
let file: string;
let config: Config;
let pools: MysqlPools;
let bus: OrderBus;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tradectl-status-kafka-'));
  file = join(dir, 'status.json');
  await writeFile(file, JSON.stringify(RAW));
  config = parseConfig(RAW, ENV);
  const router = routerForConfig(config);
  pools = new MysqlPools(config, router);
  await initShards({ config, pools, router });
  for (const ddl of dlqTablesDdl(router)) await pools.meta().query(ddl);
  bus = createOrderBus({
    config,
    dlq: createMysqlDeadLetterQueue({ pools, router }),
    logger: silentLogger(),
  });
});

afterAll(async () => {
  await bus?.stop();
  await pools?.close();
  if (config) await dropDatabases(config);
  await rm(dir, { recursive: true, force: true });
});

async function status(): Promise<{ code: number; report: StatusReport }> {
  const io = { stdout: new Collector(), stderr: new Collector(), env: ENV } satisfies CliIo;
  const code = await runCli(['status', '--config', file], io);
  // Piped (no TTY): JSON without --json.
  return { code, report: JSON.parse(io.stdout.text) };
}

describe('tradectl status with Kafka', () => {
  it("shows the sink group's lag: every message published and not yet committed, then none", async () => {
    const envelopes = accountOrders('LAG', 5, 'shopify').map((order) =>
      createEnvelope(order, '2026-03-01T00:00:00.000Z'),
    );
    await bus.publish(envelopes);
    const behind = await status();
    expect(behind.code).toBe(EXIT.ok);
    expect(behind.report.kafka).toMatchObject({
      topic: `${PREFIX}.orders`,
      groupId: `${PREFIX}-sink`,
      lag: 5,
    });
    expect(behind.report.kafka!.partitions.reduce((sum, entry) => sum + entry.lag, 0)).toBe(5);

    let handled = 0;
    const consumer = await bus.consume({
      groupId: `${PREFIX}-sink`,
      handler: async (batch) => {
        handled += batch.messages.length;
      },
    });
    try {
      await eventually(
        'the sink group committed every message',
        async () => (await status()).report.kafka?.lag === 0,
      );
      expect(handled).toBe(5);
    } finally {
      await consumer.stop();
    }
  });
});
