import { isRec, type PayloadReader, type Rec } from '../payload.js';

/**
 * Amazon money in both of its spellings: Orders 2026-01-01 sends `{amount, currencyCode}`,
 * Orders v0 `{Amount, CurrencyCode}`; the amount is always a decimal string.
 */
export function amazonCurrencyOf(value: unknown): string | null {
  if (!isRec(value)) return null;
  const code = value.currencyCode ?? value.CurrencyCode;
  return typeof code === 'string' && code !== '' ? code : null;
}

/**
 * Minor units of the money at `parent[key]` in the order's currency, or null when absent.
 * A different currency inside one order is a data error, never converted or summed.
 */
export function amazonMoney(
  reader: PayloadReader,
  parent: Rec,
  key: string,
  base: string,
  currency: string,
): number | null {
  const path = `${base}.${key}`;
  const money = reader.optRec(parent, key, base);
  if (!money) return null;
  const upper = 'Amount' in money && !('amount' in money);
  const code = amazonCurrencyOf(money);
  const codeField = `${path}.${upper ? 'CurrencyCode' : 'currencyCode'}`;
  if (code === null) {
    reader.fail(codeField, 'is missing');
    return 0;
  }
  if (code !== currency) {
    reader.fail(codeField, `"${code}" differs from the order currency ${currency}`);
    return 0;
  }
  const amountKey = upper ? 'Amount' : 'amount';
  return reader.decimal(money[amountKey], currency, `${path}.${amountKey}`);
}

/**
 * Default currency per Amazon marketplace id, for orders that carry no money at all yet
 * (Pending orders come without prices). Ids from Amazon's marketplace-ids table.
 */
export const AMAZON_MARKETPLACE_CURRENCY: Readonly<Record<string, string>> = {
  ATVPDKIKX0DER: 'USD', // United States
  A2EUQ1WTGCTBG2: 'CAD', // Canada
  A1AM78C64UM0Y8: 'MXN', // Mexico
  A2Q3Y263D00KWC: 'BRL', // Brazil
  A1F83G8C2ARO7P: 'GBP', // United Kingdom
  A28R8C7NBKEWEA: 'EUR', // Ireland
  A1PA6795UKMFR9: 'EUR', // Germany
  A13V1IB3VIYZZH: 'EUR', // France
  APJ6JRA9NG5V4: 'EUR', // Italy
  A1RKKUPIHCS9HS: 'EUR', // Spain
  A1805IZSGTT6HS: 'EUR', // Netherlands
  AMEN7PMS3EDWL: 'EUR', // Belgium
  A1C3SOZRARQ6R3: 'PLN', // Poland
  A2NODRKZP88ZB9: 'SEK', // Sweden
  A33AVAJ2PDY3EV: 'TRY', // Turkey
  A17E79C6D8DWNP: 'SAR', // Saudi Arabia
  A2VIGQ35RCS4UG: 'AED', // United Arab Emirates
  ARBP9OOSHTCHU: 'EGP', // Egypt
  A21TJRUUN4KGV: 'INR', // India
  AE08WJ6YKNBMC: 'ZAR', // South Africa
  A1VC38T7YXB528: 'JPY', // Japan
  A39IBJ37TRP1C6: 'AUD', // Australia
  A19VAU5U5O7RUS: 'SGD', // Singapore
};
