import { ValidationError } from './errors.js';

/**
 * Money is an integer number of minor units plus an ISO-4217 code. Never a float.
 *
 * `amount` stays a JS number: integers are exact up to 2^53 minor units (90 trillion dollars),
 * far beyond any order, and numbers bind straight into BIGINT columns.
 */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

// ISO 4217 minor-unit exponents that are not 2. CLDR (and so Intl) disagrees with ISO for a few
// currencies (its "cash digits"), and the platforms follow ISO, so the table is explicit.
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

const KNOWN_CURRENCIES: ReadonlySet<string> = new Set([
  ...Intl.supportedValuesOf('currency'),
  ...Object.keys(EXPONENTS),
]);

export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code);
}

/** Number of minor-unit digits of an ISO-4217 currency (JPY 0, USD 2, KWD 3). */
export function currencyExponent(currency: string): number {
  if (!isCurrencyCode(currency)) {
    throw new ValidationError('invalid money', [
      { path: 'currency', message: `unknown ISO-4217 currency "${currency}"` },
    ]);
  }
  return EXPONENTS[currency] ?? 2;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$/;

/**
 * Parses a decimal amount exactly ("12.34", "-0.5", "1000", 12.34) into minor units.
 * More fractional digits than the currency has are an error unless they are zeros:
 * "12.345 USD" is a data problem to report, not something to round silently.
 *
 * @param field the field path reported in the error ("lines[2].unitPrice")
 */
export function parseMoney(value: string | number, currency: string, field = 'amount'): Money {
  const exponent = currencyExponentFor(currency, field);
  const text = typeof value === 'number' ? numberToDecimal(value, field) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw invalid(field, `"${String(value)}" is not a decimal amount`);
  const [, sign, whole = '', fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw invalid(field, `"${text}" has more than ${exponent} decimal places for ${currency}`);
  }
  const minor = BigInt(whole + significant.padEnd(exponent, '0'));
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(field, `"${text}" is too large`);
  const amount = Number(minor);
  return { amount: sign === '-' && amount !== 0 ? -amount : amount, currency };
}

/** Builds Money from a platform's integer-plus-divisor form (Etsy: { amount: 1234, divisor: 100 }). */
export function moneyFromFraction(
  amount: number,
  divisor: number,
  currency: string,
  field = 'amount',
): Money {
  const exponent = currencyExponentFor(currency, field);
  if (!Number.isSafeInteger(amount)) throw invalid(field, `amount ${amount} is not an integer`);
  if (!Number.isSafeInteger(divisor) || divisor <= 0 || !/^10*$/.test(String(divisor))) {
    throw invalid(field, `divisor ${divisor} is not a power of ten`);
  }
  const divisorDigits = String(divisor).length - 1;
  if (divisorDigits <= exponent) {
    const scaled = amount * 10 ** (exponent - divisorDigits);
    if (!Number.isSafeInteger(scaled)) throw invalid(field, `${amount}/${divisor} is too large`);
    return { amount: scaled, currency };
  }
  const scale = 10 ** (divisorDigits - exponent);
  if (amount % scale !== 0) throw invalid(field, `${amount}/${divisor} has more precision than ${currency}`);
  return { amount: amount / scale, currency };
}

/** Exact decimal text of an amount: formatMoney({ amount: 1234, currency: 'USD' }) === '12.34'. */
export function formatMoney(money: Money): string {
  const exponent = currencyExponent(money.currency);
  const digits = Math.abs(money.amount)
    .toString()
    .padStart(exponent + 1, '0');
  const sign = money.amount < 0 ? '-' : '';
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) {
    throw new ValidationError('invalid money', [
      { path: 'currency', message: `cannot add ${a.currency} and ${b.currency}` },
    ]);
  }
  const amount = a.amount + b.amount;
  if (!Number.isSafeInteger(amount)) throw invalid('amount', 'sum overflows');
  return { amount, currency: a.currency };
}

export function multiplyMoney(money: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity)) throw invalid('quantity', `${quantity} is not an integer`);
  const amount = money.amount * quantity;
  if (!Number.isSafeInteger(amount)) throw invalid('amount', 'product overflows');
  return { amount, currency: money.currency };
}

export function zeroMoney(currency: string): Money {
  currencyExponent(currency);
  return { amount: 0, currency };
}

function currencyExponentFor(currency: string, field: string): number {
  if (!isCurrencyCode(currency))
    throw invalid(`${field}.currency`, `unknown ISO-4217 currency "${currency}"`);
  return EXPONENTS[currency] ?? 2;
}

// JSON numbers from platforms ("price": 12.3) are converted through their shortest round-trip
// text, which is exactly what the platform wrote; exponent notation means it was not money.
function numberToDecimal(value: number, field: string): string {
  if (!Number.isFinite(value)) throw invalid(field, `${value} is not a finite amount`);
  const text = String(value);
  if (/e/i.test(text)) throw invalid(field, `${text} is not a plain decimal amount`);
  return text;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid money', [{ path: field, message }]);
}
