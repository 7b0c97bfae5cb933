import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** A Lua script file, registered on a connection under a name that carries its version. */
export interface LuaScript {
  name: string;
  keys: number;
  lua: string;
}

type ScriptRunner = (...args: string[]) => Promise<unknown>;

/**
 * Reads `<name>-<key count>.lua` from the folder `dir` (a file URL, e.g.
 * `new URL('./lua/', import.meta.url)`, so it works from src/ and from dist/). The command name
 * carries a hash of the script text, so two deployed versions sharing one Redis (or one
 * connection) never run each other's scripts.
 */
export function loadLuaScript(dir: URL, file: string): LuaScript {
  const match = /^(.*)-(\d+)\.lua$/.exec(file);
  if (!match) throw new Error(`script file ${file} must be named <name>-<key count>.lua`);
  const lua = readFileSync(new URL(file, dir), 'utf8');
  const version = createHash('sha1').update(lua).digest('hex').slice(0, 12);
  return { name: `tradectl:${match[1]}:${version}`, keys: Number(match[2]), lua };
}

/** Runs a script through ioredis `defineCommand` (EVALSHA, falling back to EVAL once). */
export function runLuaScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.keys)
    throw new Error(`${script.name} takes ${script.keys} keys, got ${keys.length}`);
  const commands = redis as unknown as Record<string, ScriptRunner | undefined>;
  if (typeof commands[script.name] !== 'function') {
    redis.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
  }
  return commands[script.name]!(...keys, ...args.map(String));
}
