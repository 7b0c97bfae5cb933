import type { Redis } from 'ioredis';

/** How long Redis may leave a waiting client without an answer before its commands linger, ms. */
const LINGER_AFTER_SILENCE_MS = 0.5;

/**
 * Lets a client's commands wait up to about `lingerMs` so that they leave together, in one socket
 * write that Redis reads, runs and answers in one go (Kafka's `linger.ms`, for Redis), but only
 * while Redis is slow to answer: when commands have been waiting `afterSilenceMs` (default
 * LINGER_AFTER_SILENCE_MS) with no reply arriving.
 *
 * Why: on a small machine every write to loopback costs a system call on each side and wakes the
 * other process, and at 10k deducts/s the tail latency comes from the API, Redis and their callers
 * queueing for the cores, not from any one command (docs/stock-http.md). Answers that are late
 * say exactly that: then sharing writes saves CPU (5-12% per deduct in the API, 10-15% in Redis)
 * and the wake-ups that the queue is made of. While answers come back promptly nothing is held,
 * so a quiet or uncontended API pays no latency. Holding on every command behind another (no
 * silence) measured a shorter tail under contention than not lingering at all, but 1 ms more at
 * the median and a longer tail on a core of its own.
 *
 * A hold ends with the first command sent `lingerMs` or more after it began (that command joins
 * it), so under steady traffic it lasts about `lingerMs` even below a millisecond. Node's timers
 * count whole milliseconds: a hold that no later command ends is released by a timer after 1-2 ms.
 * Commands keep their order and each gets its own answer: corking only delays the socket's write.
 */
export function lingerWrites(
  redis: Redis,
  lingerMs: number,
  options: { afterSilenceMs?: number } = {},
): void {
  if (lingerMs <= 0) return;
  const afterSilenceMs = options.afterSilenceMs ?? LINGER_AFTER_SILENCE_MS;
  const send = redis.sendCommand.bind(redis);
  let watched: Redis['stream'] | undefined;
  // When the client last saw progress: a reply arriving, or a command sent to an idle connection.
  let progressAt = 0;
  let hold: { since: number; socket: Redis['stream']; timer: NodeJS.Timeout } | undefined;

  const release = () => {
    if (!hold) return;
    const { socket, timer } = hold;
    hold = undefined;
    clearTimeout(timer);
    // The socket corked, not whatever `redis.stream` is by now: after a reconnect, ioredis
    // resends on the new socket what the old one never delivered.
    socket.uncork();
  };

  redis.sendCommand = (command, stream) => {
    const socket = redis.stream;
    if (redis.status === 'ready' && socket?.writable) {
      if (watched !== socket) {
        watched = socket;
        socket.on('data', () => {
          progressAt = performance.now();
        });
      }
      const now = performance.now();
      if (hold) {
        if (now - hold.since >= lingerMs) {
          const sent = send(command, stream);
          release();
          return sent;
        }
      } else if (redis.commandQueue.length === 0) progressAt = now;
      else if (now - progressAt >= afterSilenceMs) {
        socket.cork();
        hold = { since: now, socket, timer: setTimeout(release, lingerMs) };
      }
    }
    return send(command, stream);
  };
}
