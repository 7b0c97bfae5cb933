/**
 * eBay getOrders `filter` grammar: comma-separated `name:value` criteria —
 * `creationdate:[from..to]`, `lastmodifieddate:[from..]`, `orderfulfillmentstatus:{A|B}` — with
 * the documented errors (30700 … 30850). If both date criteria are given only creationdate
 * counts; no date criterion means orders created in the last 90 days.
 */
export interface EbayFilter {
  field: 'creationdate' | 'lastmodifieddate';
  from: number;
  to: number | null;
  fulfillment: string[] | null;
}

export interface EbayFilterError {
  errorId: number;
  message: string;
  value: string;
}

const DAY = 86_400_000;
const YEARS_2 = 2 * 366 * DAY;
// How far in the future a bound may be before it counts as "in the future" (client clock skew).
const FUTURE_TOLERANCE_MS = 5_000;
const STATUS_SETS = [
  ['IN_PROGRESS', 'NOT_STARTED'],
  ['FULFILLED', 'IN_PROGRESS'],
];

export function parseEbayFilter(text: string | null, now: number): EbayFilter | EbayFilterError {
  const criteria = splitCriteria(text ?? '');
  const dates: Partial<Record<EbayFilter['field'], { from: number; to: number | null }>> = {};
  let fulfillment: string[] | null = null;
  for (const criterion of criteria) {
    const colon = criterion.indexOf(':');
    const name = colon < 0 ? criterion : criterion.slice(0, colon);
    const value = colon < 0 ? '' : criterion.slice(colon + 1);
    if (name === 'creationdate' || name === 'lastmodifieddate') {
      const range = parseRange(value, now);
      if ('errorId' in range) return range;
      dates[name] = range;
    } else if (name === 'orderfulfillmentstatus') {
      const match = /^\{([A-Z_|]+)\}$/.exec(value);
      const statuses = match ? match[1]!.split('|').sort() : [];
      if (!STATUS_SETS.some((set) => set.join() === statuses.join())) {
        return { errorId: 30800, message: `Invalid filter value ${value} for filter ${name}`, value };
      }
      fulfillment = statuses;
    } else {
      return { errorId: 30700, message: `Invalid filter name: ${name}`, value: name };
    }
  }
  const field = dates.creationdate ? 'creationdate' : dates.lastmodifieddate ? 'lastmodifieddate' : null;
  if (!field) return { field: 'creationdate', from: now - 90 * DAY, to: null, fulfillment };
  return { field, ...dates[field]!, fulfillment };
}

function splitCriteria(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '[' || char === '{') depth++;
    if (char === ']' || char === '}') depth--;
    if (char === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim()) out.push(current.trim());
  return out.filter(Boolean);
}

function parseRange(value: string, now: number): { from: number; to: number | null } | EbayFilterError {
  const match = /^\[(.*)\.\.(.*)\]$/.exec(value);
  if (!match) return { errorId: 30810, message: 'Invalid date format', value };
  const [, fromText = '', toText = ''] = match;
  if (fromText.trim() === '') return { errorId: 30820, message: 'Start date is missing', value };
  const from = parseUtc(fromText);
  const to = toText.trim() === '' ? null : parseUtc(toText);
  if (from === null || (toText.trim() !== '' && to === null))
    return { errorId: 30810, message: 'Invalid date format', value };
  if (to !== null && from > to)
    return { errorId: 30840, message: 'Start date should be before end date', value };
  if (from > now + FUTURE_TOLERANCE_MS || (to !== null && to > now + FUTURE_TOLERANCE_MS)) {
    return { errorId: 30850, message: "Start and end dates can't be in the future", value };
  }
  if (now - from > YEARS_2) {
    return {
      errorId: 30830,
      message: "Time range between start date and end date must be within '2' years.",
      value,
    };
  }
  return { from, to };
}

function parseUtc(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(text.trim())) return null;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? null : ms;
}
