import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogCreator, kafkaLogLevel } from '../../src/core/bus/kafka-logger.js';
import { memoryLogger } from '../helpers/log-sink.js';

function logThrough(level: logLevel, message: string, extra: Record<string, unknown> = {}) {
  const { logger, lines } = memoryLogger('trace');
  const log = kafkaLogCreator(logger)(logLevel.DEBUG);
  log({
    namespace: 'Runner',
    level,
    label: logLevel[level],
    log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra } as never,
  });
  return lines;
}

describe('kafkajs logs in pino', () => {
  it.each<[logLevel, string, string]>([
    [logLevel.ERROR, 'Connection error', 'error'],
    [logLevel.WARN, 'Broker not available', 'warn'],
    [logLevel.WARN, 'The group is rebalancing, re-joining', 'info'],
    [logLevel.INFO, 'Consumer has joined the group', 'debug'],
    [logLevel.DEBUG, 'Request Fetch(key: 1, version: 11)', 'trace'],
  ])('maps kafkajs level %s "%s" to pino %s', (level, message, expected) => {
    const [line] = logThrough(level, message);
    expect(line).toMatchObject({ level: expected, msg: message, component: 'kafkajs', namespace: 'Runner' });
  });

  it("keeps kafkajs's context fields and drops its own timestamp and logger name", () => {
    const [line] = logThrough(logLevel.ERROR, 'Crash', { groupId: 'tradectl-sink', retryCount: 3 });
    expect(line).toMatchObject({ groupId: 'tradectl-sink', retryCount: 3 });
    expect(line).not.toHaveProperty('logger');
    expect(line?.time).not.toBe('2026-01-01T00:00:00.000Z');
  });

  it('asks kafkajs for no more than the pino level prints', () => {
    expect(kafkaLogLevel(memoryLogger('info').logger)).toBe(logLevel.WARN);
    expect(kafkaLogLevel(memoryLogger('debug').logger)).toBe(logLevel.INFO);
    expect(kafkaLogLevel(memoryLogger('trace').logger)).toBe(logLevel.DEBUG);
    expect(kafkaLogLevel(memoryLogger('error').logger)).toBe(logLevel.ERROR);
    expect(kafkaLogLevel(memoryLogger('silent').logger)).toBe(logLevel.NOTHING);
  });
});
