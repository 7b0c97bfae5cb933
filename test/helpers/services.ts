import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { type Config, parseConfig } from '../../src/core/config.js';

/** Connection settings of the servers started by scripts/services.sh (overridable by env). */
export const MYSQL_URL = process.env.TRADECTL_MYSQL_URL ?? 'mysql://tradectl:tradectl@127.0.0.1:3306';
export const REDIS_URL = process.env.TRADECTL_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const KAFKA_BROKERS = (process.env.TRADECTL_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** A unique, lower-case name part so parallel and repeated tests never share databases or keys. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * A validated config pointing at the local servers, with a fresh database prefix and Redis key
 * prefix. `raw` is merged into the config file layer (before validation).
 */
export function testConfig(raw: Record<string, unknown> = {}): Config {
  const name = uniqueName();
  const base = {
    mysql: { databasePrefix: name },
    redis: { keyPrefix: `${name}:` },
    ...raw,
  };
  return parseConfig(base, {
    TRADECTL_MYSQL_URL: MYSQL_URL,
    TRADECTL_REDIS_URL: REDIS_URL,
    TRADECTL_KAFKA_BROKERS: KAFKA_BROKERS.join(','),
  });
}

/** Drops every database whose name starts with the config's prefix. */
export async function dropDatabases(config: Config): Promise<void> {
  const connection = await mysql.createConnection({ uri: config.mysql.url });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SHOW DATABASES LIKE ?', [
      `${config.mysql.databasePrefix}\\_%`,
    ]);
    for (const row of rows) {
      const name = String(Object.values(row)[0]);
      await connection.query(`DROP DATABASE IF EXISTS \`${name.replaceAll('`', '')}\``);
    }
  } finally {
    await connection.end();
  }
}
