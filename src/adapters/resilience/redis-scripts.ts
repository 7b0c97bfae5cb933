import { loadLuaScript } from '../../core/lua-script.js';

export { type LuaScript, runLuaScript } from '../../core/lua-script.js';

const LUA_DIR = new URL('./lua/', import.meta.url);

export const TAKE_TOKENS = loadLuaScript(LUA_DIR, 'take-tokens-1.lua');
export const ADJUST_BUCKET = loadLuaScript(LUA_DIR, 'adjust-bucket-1.lua');
/** The token-refresh lock is released with the same owner-checked delete as the sync lease. */
export const RELEASE_LOCK = loadLuaScript(
  new URL('../../core/lua/', import.meta.url),
  'release-if-owner-1.lua',
);
