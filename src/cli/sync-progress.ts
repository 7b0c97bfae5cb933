import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { AccountConfig } from '../core/config.js';
import type { SyncProgress } from '../workers/sync-runner.js';

/**
 * Live progress of `tradectl sync` on a terminal: one bar per account on stderr, counting window
 * chunks, with the orders fetched so far and the account's phase. Logs written meanwhile go
 * above the bars (`log`), so they do not tear them.
 */
export interface SyncProgressView {
  start(accounts: readonly AccountConfig[]): void;
  update(progress: SyncProgress): void;
  /** A log line (ending in a newline), printed above the bars while they run. */
  log(line: string): void;
  stop(): void;
}

export function createSyncProgress(stream: Writable): SyncProgressView {
  let bars: cliProgress.MultiBar | undefined;
  const byAccount = new Map<string, cliProgress.SingleBar>();
  return {
    start(accounts) {
      bars = new cliProgress.MultiBar(
        {
          stream,
          format: '{name} [{bar}] {value}/{total} windows | {fetched} orders | {phase}',
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
          // The stream is a terminal (checked by the caller); cli-progress would otherwise ask process.stderr.
          noTTYOutput: true,
        },
        cliProgress.Presets.shades_classic,
      );
      const width = Math.max(...accounts.map((account) => `${account.platform}:${account.id}`.length));
      for (const account of accounts) {
        const name = `${account.platform}:${account.id}`;
        byAccount.set(name, bars.create(1, 0, { name: name.padEnd(width), fetched: 0, phase: 'waiting' }));
      }
    },
    update(progress) {
      const bar = byAccount.get(`${progress.platform}:${progress.account}`);
      if (!bar) return;
      if (progress.chunks > 0) bar.setTotal(progress.chunks);
      bar.update(progress.chunksDone, { fetched: progress.fetched, phase: progress.phase });
    },
    log(line) {
      if (bars) bars.log(line);
      else stream.write(line);
    },
    stop() {
      bars?.stop();
      bars = undefined;
    },
  };
}
