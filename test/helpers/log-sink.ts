import type { DestinationStream } from 'pino';
import { createLogger } from '../../src/core/logger.js';

/** A logger writing JSON lines into memory, so tests assert on what was logged. */
export function memoryLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const destination: DestinationStream = {
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return { logger: createLogger({ level, destination }), lines };
}
