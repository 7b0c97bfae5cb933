import { type FieldIssue, ValidationError } from '../errors.js';
import { isPlatform, PLATFORMS, type Platform } from '../platforms.js';
import { TENANT_PATTERN } from './keys.js';
import { SKU_PATTERN } from './stock-validation.js';

/**
 * A channel listing and the internal SKU it sells, and the checks every mapping passes before
 * it is stored (from the CLI, a CSV import or code). Pure.
 */

/** How the channel names the listing: the seller's SKU there, or the channel's listing id. */
export type ListingKeyKind = 'sku' | 'listing';

export interface ListingMapping {
  platform: Platform;
  /** The account id from config (`accounts[].id`). */
  account: string;
  kind: ListingKeyKind;
  /** The seller's SKU on the channel (kind `sku`) or the channel's listing id (kind `listing`). */
  channelKey: string;
  /** The stock tenant of the internal SKU. */
  tenant: string;
  /** The internal SKU whose stock the listing sells. */
  sku: string;
}

/** A mapping as a caller gives it: the tenant defaults to `default`. */
export interface ListingMappingInput {
  platform: string;
  account: string;
  kind: ListingKeyKind;
  channelKey: string;
  tenant?: string;
  sku: string;
}

export const ACCOUNT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const DEFAULT_TENANT = 'default';
const MAX_CHANNEL_KEY = 128;

/**
 * Field names as the caller knows them: `channel_sku` in a CSV, `--channel-sku` on the command
 * line. Each check reports under the name `names` gives it.
 */
export interface MappingFieldNames {
  platform: string;
  account: string;
  channelSku: string;
  listingId: string;
  tenant: string;
  sku: string;
}

export const CODE_FIELD_NAMES: MappingFieldNames = {
  platform: 'platform',
  account: 'account',
  channelSku: 'channelKey',
  listingId: 'channelKey',
  tenant: 'tenant',
  sku: 'sku',
};

/** Checks one mapping, adding an issue per bad field (`where` prefixes each path). */
export function checkMapping(
  input: ListingMappingInput,
  issues: FieldIssue[],
  names: MappingFieldNames = CODE_FIELD_NAMES,
  where: (field: string) => string = (field) => field,
): ListingMapping {
  if (!isPlatform(input.platform)) {
    issues.push({
      path: where(names.platform),
      message: `expected one of ${PLATFORMS.join(', ')}, got ${show(input.platform)}`,
    });
  }
  if (!ACCOUNT_PATTERN.test(input.account)) {
    issues.push({
      path: where(names.account),
      message: `expected an account id of 1-64 letters, digits, - or _, got ${show(input.account)}`,
    });
  }
  const keyProblem = channelKeyProblem(input.channelKey);
  if (keyProblem) {
    issues.push({
      path: where(input.kind === 'sku' ? names.channelSku : names.listingId),
      message: keyProblem,
    });
  }
  const tenant = input.tenant === undefined || input.tenant === '' ? DEFAULT_TENANT : input.tenant;
  if (!TENANT_PATTERN.test(tenant)) {
    issues.push({
      path: where(names.tenant),
      message: `expected a tenant of 1-64 letters, digits, - or _, got ${show(tenant)}`,
    });
  }
  if (!SKU_PATTERN.test(input.sku)) {
    issues.push({
      path: where(names.sku),
      message: `expected an internal SKU of 1-128 letters, digits or . _ : / # + - (no spaces), got ${show(input.sku)}`,
    });
  }
  return {
    platform: input.platform as Platform,
    account: input.account,
    kind: input.kind,
    channelKey: input.channelKey,
    tenant,
    sku: input.sku,
  };
}

/** Checks one mapping; throws a ValidationError naming every bad field. */
export function parseMapping(input: ListingMappingInput, names?: MappingFieldNames): ListingMapping {
  const issues: FieldIssue[] = [];
  const mapping = checkMapping(input, issues, names);
  if (issues.length > 0) throw new ValidationError('invalid listing mapping', issues);
  return mapping;
}

// Channel SKUs may hold spaces and most punctuation, so only what cannot be meant is refused.
// Surrounding blanks are refused rather than trimmed: the channel would report the SKU without
// them, and a mapping that silently never matches is worse than an error now.
function channelKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (key.length > MAX_CHANNEL_KEY) return `longer than ${MAX_CHANNEL_KEY} characters`;
  if (key.trim() !== key) return `has leading or trailing blanks: ${show(key)}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains control characters';
  return undefined;
}

/** The cache and identity key of a channel listing. */
export function listingKey(
  platform: string,
  account: string,
  kind: ListingKeyKind,
  channelKey: string,
): string {
  return `${platform}\u0000${account}\u0000${kind}\u0000${channelKey}`;
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === undefined ? 'nothing' : String(value);
}
