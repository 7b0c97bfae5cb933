import { z } from 'zod';
import { PLATFORMS } from '../platforms.js';
import { TENANT_PATTERN } from './keys.js';
import { ACCOUNT_PATTERN } from './listing-mapping.js';
import { MAX_STOCK, SKU_PATTERN } from './stock-validation.js';

/**
 * `inventoryPush` of the configuration (src/core/config.ts includes it): the push role's timing
 * and the rules of push-rules.ts. Rule objects are strict: a misspelt field (`safetystock`) is
 * an error naming it, not a rule silently ignored while a channel oversells.
 */

const units = z.number().int('expected whole units').min(0).max(MAX_STOCK);
const percent = z.number().int('expected a whole percent').min(0).max(100);
const ms = (max: number) => z.number().int('expected whole milliseconds').min(0).max(max);

const CHANNEL = new RegExp(`^(${PLATFORMS.join('|')})(:${ACCOUNT_PATTERN.source.slice(1, -1)})?$`);
const CHANNEL_MESSAGE = `expected a platform (${PLATFORMS.join(', ')}) or platform:account, e.g. amazon:na-main`;
const channel = z.string().regex(CHANNEL, CHANNEL_MESSAGE);

const rulePatch = z.strictObject({
  safetyStock: units.optional(),
  percent: percent.optional(),
  maxShown: units.nullable().optional(),
});

const skuOverride = rulePatch.extend({
  sku: z.string().regex(SKU_PATTERN, 'expected an internal SKU (1-128 letters, digits or . _ : / # + -)'),
  tenant: z.string().regex(TENANT_PATTERN, 'expected a tenant of 1-64 letters, digits, - or _').optional(),
  channel: channel.optional(),
});

export const inventoryPushSchema = z
  .object({
    /** A SKU is pushed once no change came for this long, ms. Default 2,000. */
    debounceMs: ms(3_600_000).default(2000),
    /** During a continuous burst a SKU is still pushed at least this often, ms. Default 10,000. */
    maxDelayMs: ms(3_600_000).default(10_000),
    /** SKUs pushed at once (each to all its listings). Default 8. */
    concurrency: z.number().int().min(1).max(256).default(8),
    /** Stream entries read per round and tenant. Default 256. */
    batchSize: z.number().int().min(1).max(10_000).default(256),
    /** SKUs waiting for a push kept in memory; reading pauses above it. Default 10,000. */
    maxTrackedSkus: z.number().int().min(1).max(10_000_000).default(10_000),
    /** First wait after a failed push, ms; doubles per failure. Default 1,000. */
    retryBaseMs: ms(3_600_000).default(1000),
    /** Longest wait between attempts of a failing push, ms. Default 300,000. */
    retryMaxMs: ms(86_400_000).default(300_000),
    /** Wait when a round found nothing to read, ms. Default 200. */
    pollIntervalMs: ms(60_000).default(200),
    rules: z
      .object({
        safetyStock: units.default(0),
        percent: percent.default(100),
        maxShown: units.nullable().default(null),
        /** Rules of a platform or one account of it, by `platform` or `platform:account`. */
        channels: z.record(z.string(), rulePatch).default({}),
        /** Per-SKU overrides, optionally for one tenant and/or one channel. */
        skus: z.array(skuOverride).default([]),
      })
      .prefault({}),
  })
  .superRefine((push, ctx) => {
    if (push.maxDelayMs < push.debounceMs) {
      ctx.addIssue({ code: 'custom', path: ['maxDelayMs'], message: 'must not be below debounceMs' });
    }
    if (push.retryMaxMs < push.retryBaseMs) {
      ctx.addIssue({ code: 'custom', path: ['retryMaxMs'], message: 'must not be below retryBaseMs' });
    }
    // Checked here rather than by the record's key schema, whose message would not say what is expected.
    for (const key of Object.keys(push.rules.channels)) {
      if (!CHANNEL.test(key))
        ctx.addIssue({ code: 'custom', path: ['rules', 'channels', key], message: CHANNEL_MESSAGE });
    }
    const seen = new Map<string, number>();
    push.rules.skus.forEach((override, index) => {
      const key = `${override.tenant ?? '*'}\u0000${override.sku}\u0000${override.channel ?? '*'}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', 'skus', index],
          message: `the same SKU, tenant and channel as rules.skus[${first}]`,
        });
      }
    });
  })
  .prefault({});

export type InventoryPushConfig = z.infer<typeof inventoryPushSchema>;
