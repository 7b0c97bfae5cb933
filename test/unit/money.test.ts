import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FieldIssue, ValidationError } from '../../src/core/errors.js';
import {
  addMoney,
  currencyExponent,
  formatMoney,
  isCurrencyCode,
  type Money,
  moneyFromFraction,
  multiplyMoney,
  parseMoney,
  zeroMoney,
} from '../../src/core/money.js';

/** Runs `fn`, expects a ValidationError, and returns its field issues. */
function issuesOf(fn: () => unknown): readonly FieldIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.code).toBe('TRADECTL_INVALID_INPUT');
    expect(validation.retriable).toBe(false);
    return validation.issues;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

const EXAMPLE_CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'KRW', 'KWD', 'BHD', 'TND', 'CLF', 'UYW', 'CNY'];
const currency = fc.constantFrom(...EXAMPLE_CURRENCIES, ...Intl.supportedValuesOf('currency'));

describe('currency exponents', () => {
  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['USD', 2],
    ['EUR', 2],
    ['KWD', 3],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has %i minor-unit digits', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it('parses one major unit into 10^exponent minor units', () => {
    expect(parseMoney('1', 'JPY')).toEqual({ amount: 1, currency: 'JPY' });
    expect(parseMoney('1', 'USD')).toEqual({ amount: 100, currency: 'USD' });
    expect(parseMoney('1', 'KWD')).toEqual({ amount: 1000, currency: 'KWD' });
    expect(parseMoney('1', 'CLF')).toEqual({ amount: 10000, currency: 'CLF' });
  });

  it('knows only upper-case ISO-4217 codes', () => {
    expect(isCurrencyCode('USD')).toBe(true);
    expect(isCurrencyCode('usd')).toBe(false);
    expect(isCurrencyCode('XXY')).toBe(false);
    expect(isCurrencyCode('US')).toBe(false);
  });
});

describe('parseMoney', () => {
  it('parses decimal strings exactly', () => {
    expect(parseMoney('12.34', 'USD')).toEqual({ amount: 1234, currency: 'USD' });
    expect(parseMoney('0.01', 'USD')).toEqual({ amount: 1, currency: 'USD' });
    expect(parseMoney('1000', 'JPY')).toEqual({ amount: 1000, currency: 'JPY' });
    expect(parseMoney('1.234', 'KWD')).toEqual({ amount: 1234, currency: 'KWD' });
    expect(parseMoney('0.0001', 'CLF')).toEqual({ amount: 1, currency: 'CLF' });
    expect(parseMoney(' 7.5 ', 'EUR')).toEqual({ amount: 750, currency: 'EUR' });
    expect(parseMoney('+3', 'EUR')).toEqual({ amount: 300, currency: 'EUR' });
    expect(parseMoney('12.', 'USD')).toEqual({ amount: 1200, currency: 'USD' });
  });

  it('accepts trailing zeros beyond the exponent', () => {
    expect(parseMoney('12.3400', 'USD')).toEqual({ amount: 1234, currency: 'USD' });
    expect(parseMoney('500.00', 'JPY')).toEqual({ amount: 500, currency: 'JPY' });
    expect(parseMoney('1.5000000', 'KWD')).toEqual({ amount: 1500, currency: 'KWD' });
  });

  it('rejects more decimal places than the currency has, naming the field', () => {
    const issues = issuesOf(() => parseMoney('12.345', 'USD', 'order.lines[2].unitPrice'));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('order.lines[2].unitPrice');
    expect(issues[0]!.message).toContain('more than 2 decimal places');
    expect(issuesOf(() => parseMoney('1.5', 'JPY', 'total'))[0]!.path).toBe('total');
    expect(issuesOf(() => parseMoney('0.00001', 'CLF', 'x'))[0]!.path).toBe('x');
  });

  it('parses negative amounts (refunds, adjustments) and never yields negative zero', () => {
    expect(parseMoney('-0.5', 'USD')).toEqual({ amount: -50, currency: 'USD' });
    expect(parseMoney('-1200', 'JPY')).toEqual({ amount: -1200, currency: 'JPY' });
    expect(Object.is(parseMoney('-0.00', 'USD').amount, 0)).toBe(true);
  });

  it('parses JSON numbers through their exact decimal text, not float arithmetic', () => {
    // 12.3 * 100 is 1230.0000000000002 in floating point; the text "12.3" is exact.
    expect(parseMoney(12.3, 'USD')).toEqual({ amount: 1230, currency: 'USD' });
    expect(parseMoney(0.1, 'USD')).toEqual({ amount: 10, currency: 'USD' });
    expect(parseMoney(19.99, 'EUR')).toEqual({ amount: 1999, currency: 'EUR' });
    expect(parseMoney(1.005, 'KWD')).toEqual({ amount: 1005, currency: 'KWD' });
  });

  it('rejects JSON numbers that are not plain money amounts', () => {
    expect(issuesOf(() => parseMoney(1e21, 'USD', 'price'))[0]!.path).toBe('price');
    expect(issuesOf(() => parseMoney(1e-7, 'USD', 'price'))[0]!.path).toBe('price');
    expect(issuesOf(() => parseMoney(0.1 + 0.2, 'USD', 'price'))[0]!.message).toContain('decimal places');
    expect(issuesOf(() => parseMoney(Number.NaN, 'USD', 'price'))[0]!.path).toBe('price');
    expect(issuesOf(() => parseMoney(Number.POSITIVE_INFINITY, 'USD', 'price'))[0]!.path).toBe('price');
  });

  it.each(['', 'abc', '1,000.00', '.5', '1.2.3', '12 USD', '$12', '1e3', '0x10', '--1'])(
    'rejects %j as not a decimal amount',
    (text) => {
      const issues = issuesOf(() => parseMoney(text, 'USD', 'amount'));
      expect(issues[0]!.path).toBe('amount');
    },
  );

  it('rejects amounts beyond 2^53 minor units instead of losing precision', () => {
    expect(issuesOf(() => parseMoney('90071992547409.92', 'USD'))[0]!.message).toContain('too large');
    expect(parseMoney('90071992547409.91', 'USD').amount).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects an unknown currency, naming the currency field', () => {
    const issues = issuesOf(() => parseMoney('1.00', 'XYZ', 'order.totals.total'));
    expect(issues[0]!.path).toBe('order.totals.total.currency');
    expect(issues[0]!.message).toContain('XYZ');
    expect(issuesOf(() => parseMoney('1.00', 'usd'))[0]!.path).toBe('amount.currency');
  });

  it('round-trips every integer amount through formatMoney', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), currency, (amount, code) => {
        const money: Money = { amount, currency: code };
        expect(parseMoney(formatMoney(money), code)).toEqual(money);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatMoney', () => {
  it('prints exactly the currency exponent digits', () => {
    expect(formatMoney({ amount: 1234, currency: 'USD' })).toBe('12.34');
    expect(formatMoney({ amount: 5, currency: 'USD' })).toBe('0.05');
    expect(formatMoney({ amount: -5, currency: 'USD' })).toBe('-0.05');
    expect(formatMoney({ amount: 1234, currency: 'JPY' })).toBe('1234');
    expect(formatMoney({ amount: 1, currency: 'KWD' })).toBe('0.001');
    expect(formatMoney({ amount: 12345, currency: 'CLF' })).toBe('1.2345');
  });
});

describe('moneyFromFraction', () => {
  it('converts the Etsy {amount, divisor} form to minor units', () => {
    expect(moneyFromFraction(1234, 100, 'USD')).toEqual({ amount: 1234, currency: 'USD' });
    expect(moneyFromFraction(5, 1, 'USD')).toEqual({ amount: 500, currency: 'USD' });
    expect(moneyFromFraction(12340, 1000, 'USD')).toEqual({ amount: 1234, currency: 'USD' });
    expect(moneyFromFraction(1500, 100, 'JPY')).toEqual({ amount: 15, currency: 'JPY' });
    expect(moneyFromFraction(1234, 100, 'KWD')).toEqual({ amount: 12340, currency: 'KWD' });
    expect(moneyFromFraction(-250, 100, 'EUR')).toEqual({ amount: -250, currency: 'EUR' });
  });

  it('rejects a divisor that is not a power of ten', () => {
    for (const divisor of [0, -100, 3, 50, 1.5, 110]) {
      expect(issuesOf(() => moneyFromFraction(100, divisor, 'USD', 'receipt.grandtotal'))[0]!.path).toBe(
        'receipt.grandtotal',
      );
    }
  });

  it('rejects more precision than the currency has instead of rounding', () => {
    const issues = issuesOf(() => moneyFromFraction(12345, 1000, 'USD', 'price'));
    expect(issues[0]!.message).toContain('more precision than USD');
    expect(issuesOf(() => moneyFromFraction(150, 100, 'JPY', 'price'))[0]!.path).toBe('price');
  });

  it('rejects non-integer and overflowing amounts', () => {
    expect(issuesOf(() => moneyFromFraction(12.5, 100, 'USD', 'price'))[0]!.path).toBe('price');
    expect(
      issuesOf(() => moneyFromFraction(Number.MAX_SAFE_INTEGER, 1, 'USD', 'price'))[0]!.message,
    ).toContain('too large');
  });

  it('agrees with parseMoney on the same decimal value', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (amount) => {
        const fromFraction = moneyFromFraction(amount, 100, 'USD');
        expect(fromFraction).toEqual(parseMoney(formatMoney({ amount, currency: 'USD' }), 'USD'));
      }),
    );
  });
});

describe('money arithmetic', () => {
  const usd = (amount: number): Money => ({ amount, currency: 'USD' });

  it('adds and multiplies in minor units', () => {
    expect(addMoney(usd(1999), usd(1))).toEqual(usd(2000));
    expect(multiplyMoney(usd(1999), 3)).toEqual(usd(5997));
    expect(zeroMoney('JPY')).toEqual({ amount: 0, currency: 'JPY' });
  });

  it('refuses to add different currencies', () => {
    const issues = issuesOf(() => addMoney(usd(1), { amount: 1, currency: 'EUR' }));
    expect(issues[0]!.path).toBe('currency');
    expect(issues[0]!.message).toContain('USD and EUR');
  });

  it('refuses sums and products beyond 2^53 minor units', () => {
    expect(issuesOf(() => addMoney(usd(Number.MAX_SAFE_INTEGER), usd(1)))[0]!.message).toContain('overflows');
    expect(issuesOf(() => addMoney(usd(-Number.MAX_SAFE_INTEGER), usd(-1)))[0]!.message).toContain(
      'overflows',
    );
    expect(issuesOf(() => multiplyMoney(usd(2 ** 40), 2 ** 13))[0]!.message).toContain('overflows');
    expect(issuesOf(() => multiplyMoney(usd(100), 1.5))[0]!.path).toBe('quantity');
  });

  it('zeroMoney refuses an unknown currency', () => {
    expect(issuesOf(() => zeroMoney('ABC'))[0]!.path).toBe('currency');
  });
});
