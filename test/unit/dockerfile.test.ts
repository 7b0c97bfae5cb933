import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';

// The container image's promises (docs in the Dockerfile's comments and the README): no Docker
// engine runs here, so the Dockerfile is read as text and checked instruction by instruction.
const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped, each with its stage. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^\s*(\w+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage++;
    out.push({ keyword: keyword.toUpperCase(), args: args.trim(), stage });
  }
  return out;
}

const dockerfile = await readFile(root('Dockerfile'), 'utf8');
const all = instructions(dockerfile);
const stages = all.filter((entry) => entry.keyword === 'FROM');
const final = all.filter((entry) => entry.stage === stages.length - 1);
const ofFinal = (keyword: string) => final.filter((entry) => entry.keyword === keyword);
const args = Object.fromEntries(
  all
    .filter((entry) => entry.keyword === 'ARG' && entry.args.includes('='))
    .map((entry) => entry.args.split('=') as [string, string]),
);
const resolve = (text: string) => text.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
const stageNamed = (name: string) =>
  stages.findIndex((entry) => new RegExp(`\\sAS\\s+${name}$`, 'i').test(entry.args));
const runsOf = (stage: number) =>
  all.filter((entry) => entry.stage === stage && entry.keyword === 'RUN').map((entry) => entry.args);

describe('Dockerfile', () => {
  it('builds in one stage and runs from another, on a current Node LTS slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(resolve(stage.args)).toMatch(/^node:(22|24)-bookworm-slim\s+AS\s+\w+$/i);
    }
  });

  it('compiles with the dev dependencies and ships only the production ones', () => {
    const build = stageNamed('build');
    expect(build).toBeGreaterThanOrEqual(0);
    expect(runsOf(build).join('\n')).toMatch(/npm ci(?![^\n]*--omit=dev)/);
    expect(runsOf(build).join('\n')).toMatch(/npm run build/);
    const copies = ofFinal('COPY').map((entry) => entry.args);
    const modules = copies.find((copy) => /\bnode_modules\b/.test(copy));
    expect(modules, 'node_modules copied into the runtime stage').toBeDefined();
    const from = /--from=(\w+)/.exec(modules!)?.[1];
    expect(runsOf(stageNamed(from!)).join('\n')).toMatch(/npm ci --omit=dev/);
    expect(copies.some((copy) => /--from=build\s+\S*dist/.test(copy))).toBe(true);
    const finalRuns = ofFinal('RUN').map((entry) => entry.args);
    expect(finalRuns.join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('copies what the build needs, including the Lua asset step, and nothing the ignore file drops', async () => {
    const build = all.filter((entry) => entry.stage === stageNamed('build') && entry.keyword === 'COPY');
    const sources = build.flatMap((entry) => entry.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['src', 'bin', 'scripts/copy-assets.mjs']));
    const pkg = JSON.parse(await readFile(root('package.json'), 'utf8'));
    expect(pkg.scripts.build).toContain('scripts/copy-assets.mjs');
    const ignore = (await readFile(root('.dockerignore'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    // Allow-list style: everything is excluded, then exactly the build's inputs come back.
    expect(ignore[0]).toBe('*');
    const allowed = ignore
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const copied = all
      .filter((entry) => entry.keyword === 'COPY' && !entry.args.startsWith('--from'))
      .flatMap((entry) => entry.args.split(/\s+/).slice(0, -1));
    for (const source of copied) expect(allowed, `${source} is excluded by .dockerignore`).toContain(source);
    for (const secret of ['.data', 'node_modules', 'dist', '.git', '.env'])
      expect(allowed).not.toContain(secret);
  });

  it('runs as an unprivileged user', () => {
    const users = ofFinal('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('runs tini as PID 1 so SIGTERM reaches node and zombies are reaped', () => {
    expect(
      ofFinal('RUN')
        .map((entry) => entry.args)
        .join('\n'),
    ).toMatch(/apt-get install[^\n]*\btini\b/);
    expect(JSON.parse(ofFinal('ENTRYPOINT').at(-1)!.args)).toEqual(['tini', '--']);
  });

  it('starts the worker by default, with tradectl on the PATH', () => {
    expect(JSON.parse(ofFinal('CMD').at(-1)!.args)).toEqual(['tradectl', 'worker']);
    expect(
      ofFinal('RUN')
        .map((entry) => entry.args)
        .join('\n'),
    ).toMatch(/ln -s \/app\/dist\/bin\/tradectl\.js \/usr\/local\/bin\/tradectl/);
    expect(all.some((entry) => /chmod \d*7\d* dist\/bin\/tradectl\.js/.test(entry.args))).toBe(true);
  });

  it('checks /healthz on the default API port with node (no curl in slim images)', () => {
    const healthcheck = ofFinal('HEALTHCHECK').at(-1)!.args;
    expect(healthcheck).toMatch(/--interval=\d+s/);
    expect(healthcheck).toMatch(/--timeout=\d+s/);
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 3).trim()) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain(`http://127.0.0.1:${parseConfig({}).api.port}/healthz`);
    expect(ofFinal('EXPOSE').map((entry) => entry.args)).toContain(String(parseConfig({}).api.port));
  });
});
