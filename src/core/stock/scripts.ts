import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { ScriptCall } from './script-args.js';

/**
 * The stock Lua scripts: one file each under lua/, named `<name>-<key count>.lua` (`n` when the
 * count depends on the number of lines), with its KEYS/ARGV/returns contract on top. Each is
 * registered once per connection with ioredis `defineCommand` under a name that carries a hash
 * of its text (`tradectl:stock:deduct:3f2a…`), so two deployed versions sharing one Redis never
 * run each other's scripts; ioredis sends EVALSHA and falls back to EVAL once per connection.
 */

export const STOCK_SCRIPT_FILES = {
  deduct: 'deduct-stock-n.lua',
  deductAvailable: 'deduct-available-4.lua',
  deductOnce: 'deduct-once-per-user-5.lua',
  reserve: 'reserve-stock-n.lua',
  settle: 'settle-reservation-n.lua',
  restore: 'restore-stock-n.lua',
  set: 'set-stock-3.lua',
  adjust: 'adjust-stock-3.lua',
  load: 'load-stock-2.lua',
  pruneConsumers: 'prune-consumers-1.lua',
} as const;

export type StockScriptName = keyof typeof STOCK_SCRIPT_FILES;

export interface StockScript {
  readonly name: StockScriptName;
  readonly file: string;
  /** The versioned command name the script is registered under. */
  readonly command: string;
  readonly lua: string;
  /** SHA-1 of the text: what EVALSHA (and redis-benchmark) call it by. */
  readonly sha: string;
  /** Fixed key count, or null when it depends on the lines. */
  readonly keys: number | null;
}

/** Reads one script from lua/ (next to this module, in src/ and in dist/). */
export function readStockScript(name: StockScriptName): StockScript {
  const file = STOCK_SCRIPT_FILES[name];
  const match = /^(.*)-(\d+|n)\.lua$/.exec(file);
  if (!match) throw new Error(`script file ${file} must be named <name>-<key count|n>.lua`);
  const lua = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    name,
    file,
    command: `tradectl:stock:${match[1]}:${sha.slice(0, 12)}`,
    lua,
    sha,
    keys: match[2] === 'n' ? null : Number(match[2]),
  };
}

type Runner = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The scripts bound to one ioredis client. Build one per client (StockService does) and keep it:
 * the scripts are read and registered once, at construction.
 */
export class StockScripts {
  readonly scripts: Readonly<Record<StockScriptName, StockScript>>;
  readonly #runners: Record<StockScriptName, Runner>;
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
    if (redis.options.keyPrefix) {
      // ioredis would prefix the KEYS of a script but not the key names its ARGV carry.
      throw new RangeError('the stock client must not set the ioredis keyPrefix option; use redis.keyPrefix');
    }
    const names = Object.keys(STOCK_SCRIPT_FILES) as StockScriptName[];
    this.scripts = Object.fromEntries(names.map((name) => [name, readStockScript(name)])) as Record<
      StockScriptName,
      StockScript
    >;
    const commands = redis as unknown as Record<string, Runner | undefined>;
    this.#runners = {} as Record<StockScriptName, Runner>;
    for (const name of names) {
      const script = this.scripts[name];
      // No numberOfKeys: every call passes its own count, which the variable scripts need.
      if (typeof commands[script.command] !== 'function')
        redis.defineCommand(script.command, { lua: script.lua });
      this.#runners[name] = commands[script.command]!.bind(redis);
    }
  }

  /** Runs a script with the KEYS and ARGV of a builder of script-args.ts. */
  run(name: StockScriptName, call: ScriptCall): Promise<unknown> {
    this.#checkKeys(name, call);
    return this.#runners[name](call.keys.length, ...call.keys, ...call.args);
  }

  /**
   * Runs a script once per call in one ioredis pipeline: one write to Redis for all of them
   * (per-call writes were an eighth of the sink's CPU), each call still its own script run with
   * its own answer: `[error, reply]` per call, in order. In a Redis Cluster every key of the
   * calls must share one slot (one tenant's keys do).
   */
  async runMany(name: StockScriptName, calls: readonly ScriptCall[]): Promise<[Error | null, unknown][]> {
    if (calls.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    const queue = pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>;
    const command = this.scripts[name].command;
    for (const call of calls) {
      this.#checkKeys(name, call);
      queue[command]!(call.keys.length, ...call.keys, ...call.args);
    }
    const replies = await pipeline.exec();
    if (replies === null) throw new Error(`the ${name} pipeline was discarded`);
    return replies;
  }

  #checkKeys(name: StockScriptName, call: ScriptCall): void {
    const expected = this.scripts[name].keys;
    if (expected !== null && call.keys.length !== expected) {
      throw new Error(`${this.scripts[name].file} takes ${expected} keys, got ${call.keys.length}`);
    }
  }
}
