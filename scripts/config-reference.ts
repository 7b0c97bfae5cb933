// Generates docs/configuration.md, the configuration reference, from the two sources that
// already have to agree (test/unit/config-example-files.test.ts): the zod schema in
// src/core/config.ts gives every key and its real default, config/default.yaml gives each key's
// comment with its "Env:" override. test/unit/configuration-doc.test.ts fails when the page is
// stale, so a new config key cannot ship undocumented.
//
//   npx tsx scripts/config-reference.ts --write     # rewrites docs/configuration.md
//   npx tsx scripts/config-reference.ts             # prints it
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema, parseConfig } from '../src/core/config.js';

export const DEFAULT_YAML = fileURLToPath(new URL('../config/default.yaml', import.meta.url));
export const CONFIGURATION_MD = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** One documented setting: `mysql.url`, `accounts[].baseUrl`, ... */
export interface SettingDoc {
  path: string;
  defaultText: string;
  env: string;
  description: string;
}

interface SchemaLeaf {
  path: string;
  /** A default, optional (unset) or required: read from the wrappers around the field. */
  presence: 'default' | 'optional' | 'required';
}

/** Every leaf of the schema; the fields of `accounts` as `accounts[].field`. */
export function schemaLeaves(schema: z.ZodType, prefix = '', presence: SchemaLeaf['presence'] = 'required') {
  const leaves: SchemaLeaf[] = [];
  const walk = (node: z.ZodType, path: string, found: SchemaLeaf['presence']) => {
    // biome-ignore lint/suspicious/noExplicitAny: walks zod's public `def` tree generically
    const def = (node as any).def;
    if (def.type === 'default' || def.type === 'prefault') return walk(def.innerType, path, 'default');
    if (def.type === 'optional' || def.type === 'nullable') {
      return walk(def.innerType, path, found === 'default' ? found : 'optional');
    }
    if (def.type === 'object') {
      for (const [key, value] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        walk(value, path ? `${path}.${key}` : key, 'required');
      }
      return;
    }
    if (def.type === 'array' && def.element.def.type === 'object') {
      leaves.push({ path, presence: found });
      walk(def.element, `${path}[]`, 'required');
      return;
    }
    leaves.push({ path, presence: found });
  };
  walk(schema, prefix, presence);
  return leaves;
}

/**
 * The comment written above (or beside) each key of config/default.yaml, by key path, as lines
 * without their `# `. Two conventions of that file are read too: a key without a default is
 * shown commented out (`#   workerId: 0`) after its own comment, and the fields of a list's
 * entries are shown as a commented example under the list's comment (`#     id: x   # why`).
 */
export function yamlComments(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const stack: { indent: number; key: string }[] = [];
  let block: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      block = [];
      continue;
    }
    const comment = /^\s*#(?: (.*))?$/.exec(line);
    if (comment) {
      block.push(comment[1] ?? '');
      continue;
    }
    const key = /^(\s*)([A-Za-z_]\w*):(.*)$/.exec(line);
    if (!key) {
      block = [];
      continue;
    }
    const indent = key[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.map((entry) => entry.key).join('.');
    const name = key[2]!;
    const path = parent ? `${parent}.${name}` : name;
    stack.push({ indent, key: name });
    // A commented-out key other than this one ends the comment of that key; what follows is ours.
    let own = block;
    for (let i = own.length - 1; i >= 0; i--) {
      const other = /^ {2}(\w+):/.exec(own[i]!);
      if (other && other[1] !== name) {
        found.set(parent ? `${parent}.${other[1]}` : other[1]!, own.slice(0, i));
        own = own.slice(i + 1);
        break;
      }
    }
    const beside = /\s#\s(.*)$/.exec(key[3]!)?.[1];
    found.set(path, beside === undefined ? own : [...own, beside]);
    for (const [field, lines] of listExampleFields(own)) found.set(`${path}[].${field}`, lines);
    block = [];
  }
  return found;
}

// `  - platform: shopify   # why` / `    limits:   # why` / `      burst: 40`: each field of
// the example entry with its comment (continued on `#`-only lines below), nested by indentation.
function listExampleFields(lines: readonly string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const start = lines.findIndex((line) => /^\s+- \w+:/.test(line));
  if (start < 0) return fields;
  const base = lines[start]!.indexOf('-') + 2;
  const stack: { indent: number; key: string }[] = [];
  let last: string | undefined;
  for (const line of lines.slice(start)) {
    const continued = /^\s+#\s(.*)$/.exec(line);
    if (continued && last) {
      fields.get(last)!.push(continued[1]!);
      continue;
    }
    const field = /^(\s*)(?:- )?(\w+):(.*)$/.exec(line);
    if (!field) continue;
    const indent = line.startsWith('-', field[1]!.length) ? base : field[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    last = [...stack.map((entry) => entry.key), field[2]!].join('.');
    stack.push({ indent, key: field[2]! });
    const beside = /\s#\s(.*)$/.exec(field[3]!)?.[1];
    fields.set(last, beside === undefined ? [] : [beside]);
  }
  return fields;
}

/**
 * Splits a key's comment into its description and its "Env:" override; the "Default:" sentence
 * is dropped (the schema's real default is shown instead) and example lines become code.
 */
export function splitComment(lines: readonly string[]): { description: string; env: string } {
  const listStart = lines.findIndex((line) => /^\s+- \w+:/.test(line));
  const text = (listStart < 0 ? lines : lines.slice(0, listStart))
    .map((line) => (/^\s{2,}\S/.test(line) ? `\`${line.trim()}\`` : line.trim()))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const env = /\bEnv:\s*(.*?)(?:\.(?=\s+[A-Z])|\.?$)/.exec(text);
  const withoutEnv = env ? text.slice(0, env.index) + text.slice(env.index + env[0].length) : text;
  const description = withoutEnv
    .replace(/\bDefault:.*?(?:\.(?=\s+[A-Z])|\.?$)/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/:$/, '');
  return { description, env: env?.[1]?.trim() || 'none' };
}

// A field of a list entry without its own comment (`accounts[].limits.burst`) borrows the
// nearest commented parent inside the entry, else points at the list.
function commentOf(comments: Map<string, string[]>, path: string): string[] {
  const own = comments.get(path);
  if (own && own.length > 0) return own;
  const list = path.lastIndexOf('[].');
  if (list < 0) return [];
  const parts = path.slice(list + 3).split('.');
  for (let length = parts.length - 1; length > 0; length--) {
    const parent = comments.get(`${path.slice(0, list + 3)}${parts.slice(0, length).join('.')}`);
    if (parent && parent.length > 0) return parent;
  }
  return [`A field of each entry of \`${path.slice(0, list)}\`.`];
}

function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function formatDefault(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

/** Every setting of the schema with its default, environment override and description. */
export function settingDocs(yamlText: string): SettingDoc[] {
  const comments = yamlComments(yamlText);
  const defaults = parseConfig({});
  const accountDefaults = parseConfig({ accounts: [{ platform: 'shopify', id: 'x', userId: '1' }] })
    .accounts[0];
  return schemaLeaves(configSchema).map(({ path, presence }) => {
    const { description, env } = splitComment(commentOf(comments, path));
    const value = path.startsWith('accounts[].')
      ? lookup(accountDefaults, path.slice('accounts[].'.length))
      : lookup(defaults, path);
    const defaultText =
      presence === 'required' ? 'required' : value === undefined ? 'unset' : formatDefault(value);
    return { path, defaultText, env, description };
  });
}

const cell = (text: string) => text.replaceAll('|', '\\|');
const code = (text: string) => (text.includes('`') ? text : `\`${text}\``);

/** The whole page, grouped by top-level section. */
export function renderConfigurationReference(yamlText: string): string {
  const docs = settingDocs(yamlText);
  const comments = yamlComments(yamlText);
  const sections = [...new Set(docs.map((doc) => doc.path.split(/[.[]/)[0]!))];
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npx tsx scripts/config-reference.ts --write` from src/core/config.ts (keys,',
    '     defaults) and config/default.yaml (comments); test/unit/configuration-doc.test.ts fails',
    '     when it is stale. Edit those two files, not this one. -->',
    '',
    'A YAML or JSON file given with `--config <file>` (or `TRADECTL_CONFIG`), then the `TRADECTL_*`',
    'environment overrides, validated at start-up: every problem is listed with its path and the',
    'command exits 2. Precedence, lowest to highest: built-in defaults, the file, the environment.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's ${NAME} syntax, as text
    '`${NAME}` in any string value is read from the environment variable NAME; a variable that is',
    'not set is an error naming the field. `config/default.yaml` is the same reference as a file to',
    'copy; `tradectl config check` prints the effective configuration with secrets redacted.',
    '',
  ];
  for (const section of sections) {
    const intro = splitComment(comments.get(section) ?? []).description;
    out.push(`## ${section}`, '');
    if (intro) out.push(/\.$/.test(intro) ? intro : `${intro}.`, '');
    out.push('| key | default | env | description |', '| --- | --- | --- | --- |');
    for (const doc of docs.filter((entry) => entry.path.split(/[.[]/)[0] === section)) {
      if (doc.path === section && docs.some((entry) => entry.path.startsWith(`${section}[].`))) continue;
      out.push(
        `| ${code(doc.path)} | ${cell(code(doc.defaultText))} | ${cell(doc.env)} | ${cell(doc.description)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = renderConfigurationReference(readFileSync(DEFAULT_YAML, 'utf8'));
  if (process.argv.includes('--write')) writeFileSync(CONFIGURATION_MD, page);
  else process.stdout.write(page);
}
