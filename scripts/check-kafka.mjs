// Smoke test for the local Kafka-protocol broker (scripts/services.sh up), using kafkajs the
// way the KafkaBus does: idempotent GZIP producer, consumer group, committed offsets, resume.
//
//   node scripts/check-kafka.mjs            (from the repo root; exits 1 on any mismatch)
//
// Env: TRADECTL_KAFKA_BROKERS (127.0.0.1:9092), CHECK_MESSAGES (1000), CHECK_IDEMPOTENT (true),
// CHECK_SESSION_TIMEOUT (consumer sessionTimeout ms, 10000).
// Safe to re-run against a broker that already holds data: every run uses its own run id and
// consumer group, and counts only its own messages.
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';

const brokers = (process.env.TRADECTL_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TOPIC = 'tradectl.orders.v1';
const PARTITIONS = 12;
const N = Number(process.env.CHECK_MESSAGES ?? 1000);
const N2 = 100; // produced while no consumer runs, to prove the resume point
const idempotent = process.env.CHECK_IDEMPOTENT !== 'false';
const runId = `${Date.now().toString(36)}-${process.pid}`;
const groupId = `tradectl-check-${runId}`;
const sessionTimeout = Number(process.env.CHECK_SESSION_TIMEOUT ?? 10000);

const failures = [];
const t0 = performance.now();
const ms = (t) => `${Math.round(performance.now() - t)} ms`;
const log = (msg) => console.log(`[${ms(t0).padStart(8)}] ${msg}`);
const check = (ok, what) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const kafka = new Kafka({
  clientId: 'tradectl-check',
  brokers,
  logLevel: logLevel.WARN,
});

// --- admin ----------------------------------------------------------------------------------
const admin = kafka.admin();
await admin.connect();
const topics = await admin.listTopics();
log(`listTopics: ${topics.join(', ')}`);
check(topics.includes(TOPIC), `${TOPIC} exists`);
const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
check(meta.topics[0].partitions.length === PARTITIONS, `${TOPIC} has ${PARTITIONS} partitions`);

// The mock broker does not implement CreateTopics (use `scripts/services.sh topic NAME:PARTITIONS`);
// report what kafkajs sees. Against real Kafka this creates the topic.
const extra = `tradectl.check.${runId}`;
try {
  const created = await admin.createTopics({ topics: [{ topic: extra, numPartitions: 3 }], timeout: 5000 });
  const m = await admin.fetchTopicMetadata({ topics: [extra] });
  log(`admin.createTopics -> ${created}, ${extra} has ${m.topics[0].partitions.length} partitions`);
} catch (err) {
  log(`admin.createTopics is unsupported: ${err.name}: ${err.message}`);
  // Auto-creation through a Metadata request (kafkajs allowAutoTopicCreation, default true).
  try {
    const m = await admin.fetchTopicMetadata({ topics: [extra] });
    log(`auto-created ${extra} via metadata: ${m.topics[0].partitions.length} partitions`);
  } catch (err2) {
    log(`auto-create via metadata failed: ${err2.name}: ${err2.message}`);
  }
}

// --- produce --------------------------------------------------------------------------------
const producer = kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false });
await producer.connect();
const produce = async (phase, count) => {
  const t = performance.now();
  const perPartition = new Map();
  for (let base = 0; base < count; base += 100) {
    const messages = [];
    for (let i = base; i < Math.min(count, base + 100); i++) {
      messages.push({ key: `order-${phase}-${i}`, value: JSON.stringify({ runId, phase, i }) });
    }
    const res = await producer.send({ topic: TOPIC, acks: -1, compression: CompressionTypes.GZIP, messages });
    for (const r of res) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
  }
  log(
    `produced ${count} (${phase}) in ${ms(t)}, idempotent=${idempotent}, partitions hit: ${perPartition.size}`,
  );
  return perPartition;
};
const hit = await produce('a', N);
check(hit.size === PARTITIONS, `keys spread over all ${PARTITIONS} partitions`);

// --- consume, commit ------------------------------------------------------------------------
// Runs a consumer in `groupId` until `expected` own messages arrived of `phase`, then keeps
// listening `linger` ms for strays; returns what it saw.
const consume = async (label, phase, expected, linger) => {
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    sessionTimeout,
    heartbeatInterval: 1000,
  });
  const seen = new Map(); // `${phase}-${i}` -> count
  let other = 0;
  let joinedAt = 0;
  let doneAt = 0;
  const t = performance.now();
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joinedAt = performance.now();
    log(`${label}: joined group in ${ms(t)} (${e.payload.memberAssignment[TOPIC]?.length ?? 0} partitions)`);
  });
  let resolveDone;
  const done = new Promise((r) => {
    resolveDone = r;
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const v = JSON.parse(message.value.toString());
      if (v.runId !== runId) {
        other++;
        return;
      }
      const k = `${v.phase}-${v.i}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
      const own = [...seen.keys()].filter((x) => x.startsWith(`${phase}-`)).length;
      if (own === expected && !doneAt) {
        doneAt = performance.now();
        resolveDone();
      }
    },
  });
  const timeout = setTimeout(resolveDone, 60000);
  await done;
  clearTimeout(timeout);
  if (doneAt) log(`${label}: got all ${expected} in ${ms(joinedAt || t)} after join`);
  await new Promise((r) => setTimeout(r, linger));
  await consumer.disconnect(); // commits resolved offsets, leaves the group
  log(`${label}: disconnected after ${ms(t)}`);
  return { seen, other };
};

const highWater = async () =>
  new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, Number(p.high)]));

const r1 = await consume('consumer 1', 'a', N, 500);
const ownA = [...r1.seen].filter(([k]) => k.startsWith('a-'));
check(ownA.length === N, `consumer 1 read all ${N} messages (got ${ownA.length} distinct)`);
check(
  ownA.every(([, c]) => c === 1),
  'consumer 1 saw no duplicates',
);
log(`consumer 1 also skipped ${r1.other} messages of earlier runs`);

const hw = await highWater();
const committed = (await admin.fetchOffsets({ groupId, topics: [TOPIC] }))[0].partitions;
const lagging = committed.filter((p) => Number(p.offset) !== hw.get(p.partition));
check(
  lagging.length === 0,
  `committed offsets equal the high-water marks${lagging.length ? `: ${JSON.stringify(lagging)} vs ${JSON.stringify([...hw])}` : ''}`,
);

// --- restart: resume from committed offsets ------------------------------------------------
await produce('b', N2);
const r2 = await consume('consumer 2', 'b', N2, 2000);
const ownB = [...r2.seen].filter(([k]) => k.startsWith('b-'));
const oldA = [...r2.seen].filter(([k]) => k.startsWith('a-'));
check(ownB.length === N2, `consumer 2 read the ${N2} new messages (got ${ownB.length})`);
check(oldA.length === 0 && r2.other === 0, `consumer 2 read nothing old (got ${oldA.length + r2.other})`);

await producer.disconnect();
await admin.disconnect();
log(failures.length ? `FAILED: ${failures.length} check(s)` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
