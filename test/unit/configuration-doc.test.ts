import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  CONFIGURATION_MD,
  DEFAULT_YAML,
  renderConfigurationReference,
  schemaLeaves,
  settingDocs,
  splitComment,
  yamlComments,
} from '../../scripts/config-reference.js';
import { configSchema } from '../../src/core/config.js';

// docs/configuration.md is generated from the schema and config/default.yaml; this keeps it from
// going stale and checks that the generator documents every key.
const yamlText = await readFile(DEFAULT_YAML, 'utf8');

describe('docs/configuration.md', () => {
  it('is up to date (regenerate: npx tsx scripts/config-reference.ts --write)', async () => {
    expect(await readFile(CONFIGURATION_MD, 'utf8')).toBe(renderConfigurationReference(yamlText));
  });

  it('has a row with a description for every key of the schema', () => {
    const page = renderConfigurationReference(yamlText);
    const docs = new Map(settingDocs(yamlText).map((doc) => [doc.path, doc]));
    const lists = new Set(schemaLeaves(configSchema).map((leaf) => leaf.path.split('[]')[0]!));
    for (const { path } of schemaLeaves(configSchema)) {
      // A list of objects (`accounts`) is documented by the rows of its entries' fields.
      if (lists.has(path) && schemaLeaves(configSchema).some((leaf) => leaf.path.startsWith(`${path}[].`))) {
        continue;
      }
      expect(page, path).toContain(`| \`${path}\` |`);
      expect(docs.get(path)!.description, `${path} has no description`).not.toBe('');
    }
  });

  it('shows the schema defaults and the environment overrides', () => {
    const docs = new Map(settingDocs(yamlText).map((doc) => [doc.path, doc]));
    expect(docs.get('mysql.url')).toMatchObject({
      defaultText: 'mysql://tradectl:tradectl@127.0.0.1:3306',
      env: 'TRADECTL_MYSQL_URL',
    });
    expect(docs.get('shards.databases')).toMatchObject({ defaultText: '16', env: 'none' });
    expect(docs.get('ids.workerId')).toMatchObject({ defaultText: 'unset', env: 'TRADECTL_WORKER_ID' });
    expect(docs.get('ids.epoch')!.env).toBe('none');
    expect(docs.get('accounts[].platform')!.defaultText).toBe('required');
    expect(docs.get('accounts[].enabled')!.defaultText).toBe('true');
  });

  it('names every TRADECTL_* variable the loader reads', async () => {
    const source = await readFile(new URL('../../src/core/config.ts', import.meta.url), 'utf8');
    const page = renderConfigurationReference(yamlText);
    for (const [, variable] of source.matchAll(/\benv\.(TRADECTL_[A-Z0-9_]+)/g)) {
      expect(page, variable).toContain(variable!);
    }
  });
});

describe('reading config/default.yaml comments', () => {
  it('splits a comment into description and override, dropping the default sentence', () => {
    expect(splitComment(['Connections per pool. Default: 8. Env: none.'])).toEqual({
      description: 'Connections per pool.',
      env: 'none',
    });
    expect(splitComment(['Server URL. Default: redis://x:1.', 'Env: TRADECTL_REDIS_URL.'])).toEqual({
      description: 'Server URL.',
      env: 'TRADECTL_REDIS_URL',
    });
    expect(splitComment(['Brokers. Default: []. Env: B (comma-separated; empty means []).']).env).toBe(
      'B (comma-separated; empty means [])',
    );
    expect(
      splitComment(['Per DSN, e.g.', '  dsns: { "8": "x" }', 'Default: {}. Env: none.']).description,
    ).toBe('Per DSN, e.g. `dsns: { "8": "x" }`');
  });

  it('gives a commented-out key its own comment and the next key the rest', () => {
    const comments = yamlComments(
      [
        'ids:',
        '  # Fixed id. Default: unset. Env: ID.',
        '  #   workerId: 0',
        '  # Epoch. Default: x.',
        '  epoch: x',
      ].join('\n'),
    );
    expect(comments.get('ids.workerId')).toEqual(['Fixed id. Default: unset. Env: ID.']);
    expect(comments.get('ids.epoch')).toEqual(['Epoch. Default: x.']);
  });

  it("reads the fields of a list's commented example entry, nested and continued", () => {
    const comments = yamlComments(
      [
        '# Accounts. Default: [].',
        '#   - platform: shopify   # which',
        '#                         # marketplace',
        '#     limits:             # optional',
        '#       burst: 40',
        'accounts: []',
      ].join('\n'),
    );
    expect(comments.get('accounts[].platform')).toEqual(['which', 'marketplace']);
    expect(comments.get('accounts[].limits')).toEqual(['optional']);
    expect(comments.get('accounts[].limits.burst')).toEqual([]);
  });
});
