import { Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { KAFKA_BROKERS, MYSQL_URL, REDIS_URL } from '../helpers/services.js';

// Integration tests need the real servers. When one is missing the run fails here, loudly and
// before any test, instead of tests passing by skipping.
export default async function checkServices(): Promise<void> {
  const problems: string[] = [];
  try {
    const connection = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
    await connection.query('SELECT 1');
    await connection.end();
  } catch (error) {
    problems.push(`MySQL/MariaDB at ${MYSQL_URL.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}`);
  }
  const redis = new URL(REDIS_URL);
  const broker = KAFKA_BROKERS[0] ?? '127.0.0.1:9092';
  const [brokerHost = '127.0.0.1', brokerPort = '9092'] = broker.split(':');
  for (const [name, host, port] of [
    ['Redis', redis.hostname, Number(redis.port || 6379)],
    ['Kafka broker', brokerHost, Number(brokerPort)],
  ] as const) {
    if (!(await reachable(host, port))) problems.push(`${name} at ${host}:${port}: not reachable`);
  }
  if (problems.length > 0) {
    throw new Error(
      `integration tests need the local services:\n  - ${problems.join('\n  - ')}\n` +
        'start them with: scripts/services.sh up   (then eval "$(scripts/services.sh env)")',
    );
  }
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.connect(port, host);
  });
}
