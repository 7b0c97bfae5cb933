// tsc compiles only TypeScript: the Lua scripts (and any other runtime asset under src/) are
// copied next to their compiled modules so dist/ runs on its own.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ASSET = /\.(lua)$/;

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name)) cpSync(path, join('dist', path));
  }
}

copy('src');
