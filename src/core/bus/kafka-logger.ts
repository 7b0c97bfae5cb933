import { type LogEntry, type logCreator, logLevel } from 'kafkajs';
import type { Logger } from '../logger.js';

/**
 * Routes kafkajs's own logging into pino. kafkajs INFO is lifecycle chatter (connect, join,
 * "Starting") and goes to debug; its DEBUG (every request) goes to trace. WARN and ERROR keep
 * their level, except messages that describe normal group life: a rebalance happens whenever a
 * replica starts or stops, so "The group is rebalancing" is info, not a warning.
 */
const DEMOTED_TO_INFO = [/group is rebalancing/i, /re-?joining the group/i];

type PinoLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The kafkajs level that lets through what `logger`'s level would print (and no more). */
export function kafkaLogLevel(logger: Logger): logLevel {
  switch (logger.level) {
    case 'trace':
      return logLevel.DEBUG;
    case 'debug':
      return logLevel.INFO;
    case 'info':
    case 'warn':
      // WARN stays on at info so that demoted rebalance messages still reach the info log.
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () => (entry: LogEntry) => {
    const {
      message,
      timestamp: _timestamp,
      logger: _logger,
      ...extra
    } = entry.log as LogEntry['log'] & {
      logger?: unknown;
    };
    child[pinoLevel(entry.level, message)]({ namespace: entry.namespace, ...extra }, message);
  };
}

function pinoLevel(level: logLevel, message: string): PinoLevel {
  switch (level) {
    case logLevel.ERROR:
      return 'error';
    case logLevel.WARN:
      return DEMOTED_TO_INFO.some((pattern) => pattern.test(message)) ? 'info' : 'warn';
    case logLevel.INFO:
      return 'debug';
    default:
      return 'trace';
  }
}
