import { currencyExponent } from '../core/money.js';
import { mix } from './rng.js';

/**
 * The small product catalogue every account sells from, and the people who buy. Buyer details
 * are derived from a number on demand rather than stored, so 20,000 orders per account stay
 * small in memory and still render the same every time.
 */
export interface Product {
  /** 0-based position; feeds platform ids (variant, ASIN, listing). */
  index: number;
  sku: string;
  title: string;
  /** Reference price in US cents; other currencies are converted and rounded to their exponent. */
  usdCents: number;
  grams: number;
}

const PRODUCTS: readonly Omit<Product, 'index'>[] = [
  { sku: 'MUG-CER-350-WHT', title: 'Ceramic Mug 350 ml, White', usdCents: 1299, grams: 380 },
  { sku: 'MUG-CER-350-BLK', title: 'Ceramic Mug 350 ml, Black', usdCents: 1299, grams: 380 },
  { sku: 'TEE-ORG-M-NVY', title: 'Organic Cotton T-Shirt, Navy, M', usdCents: 2450, grams: 180 },
  { sku: 'TEE-ORG-L-NVY', title: 'Organic Cotton T-Shirt, Navy, L', usdCents: 2450, grams: 190 },
  { sku: 'BAG-CNV-TOTE', title: 'Canvas Tote Bag', usdCents: 1800, grams: 220 },
  { sku: 'BTL-STL-750', title: 'Steel Water Bottle 750 ml', usdCents: 2999, grams: 410 },
  { sku: 'CBL-USBC-2M', title: 'USB-C Cable 2 m', usdCents: 999, grams: 60 },
  { sku: 'CHG-65W-GAN', title: '65 W GaN Charger', usdCents: 4599, grams: 120 },
  { sku: 'HDP-BT-ANC', title: 'Bluetooth Headphones, Noise Cancelling', usdCents: 12900, grams: 260 },
  { sku: 'KBD-MEC-TKL', title: 'Mechanical Keyboard, Tenkeyless', usdCents: 8900, grams: 820 },
  { sku: 'MSE-WL-ERG', title: 'Wireless Ergonomic Mouse', usdCents: 3900, grams: 110 },
  { sku: 'NTB-A5-DOT', title: 'A5 Dotted Notebook', usdCents: 1450, grams: 300 },
  { sku: 'PEN-GEL-BLK-10', title: 'Gel Pens, Black, Pack of 10', usdCents: 1100, grams: 90 },
  { sku: 'LMP-DSK-LED', title: 'LED Desk Lamp', usdCents: 5400, grams: 950 },
  { sku: 'CND-SOY-LAV', title: 'Soy Candle, Lavender', usdCents: 2200, grams: 400 },
  { sku: 'TWL-BTH-GRY', title: 'Bath Towel, Grey', usdCents: 3300, grams: 600 },
  { sku: 'PLT-SUC-3', title: 'Succulent Set of 3', usdCents: 2700, grams: 900 },
  { sku: 'YOG-MAT-6MM', title: 'Yoga Mat 6 mm', usdCents: 4200, grams: 1200 },
  { sku: 'SCK-WOL-3P', title: 'Wool Socks, 3 Pairs', usdCents: 1950, grams: 210 },
  { sku: 'CAP-BSB-KHK', title: 'Baseball Cap, Khaki', usdCents: 2100, grams: 110 },
];

export const CATALOGUE: readonly Product[] = PRODUCTS.map((product, index) => ({ ...product, index }));

const USD_RATE: Readonly<Record<string, number>> = {
  USD: 1,
  EUR: 0.92,
  GBP: 0.79,
  JPY: 150,
  AUD: 1.52,
  CAD: 1.36,
};

/** Unit price of a product in a currency's minor units, rounded to a "shop" price. */
export function priceIn(product: Product, currency: string): number {
  const rate = USD_RATE[currency] ?? 1;
  const exponent = currencyExponent(currency);
  const major = (product.usdCents / 100) * rate;
  if (exponent === 0) return Math.max(10, Math.round(major / 10) * 10);
  // x.99-style prices in every 2-decimal currency.
  return Math.max(99, Math.round(major) * 10 ** exponent - 1);
}

/** Flat shipping per order, in minor units. */
export function shippingIn(currency: string, seed: number): number {
  const options = [0, 499, 799];
  const usd = options[seed % options.length]!;
  if (usd === 0) return 0;
  const rate = USD_RATE[currency] ?? 1;
  const exponent = currencyExponent(currency);
  return exponent === 0 ? Math.round((usd / 100) * rate) : Math.round(usd * rate);
}

/** Sales tax rate in basis points by country (0 where prices include VAT). */
export function taxBasisPoints(countryCode: string): number {
  return countryCode === 'US' ? 825 : 0;
}

const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Emma',
  'Finn',
  'Grace',
  'Hiro',
  'Ines',
  'Jon',
  'Kai',
  'Lena',
  'Mo',
  'Nora',
  'Omar',
  'Pia',
];
const LAST = [
  'Smith',
  'Müller',
  'Tanaka',
  'Jones',
  'Rossi',
  'García',
  'Nguyen',
  'Brown',
  'Schmidt',
  'Kowalski',
  'Silva',
  'Dubois',
];
const STREETS = [
  'Main Street',
  'High Street',
  'Hauptstraße',
  'Oak Avenue',
  'Station Road',
  'Park Lane',
  'Elm Street',
];

interface Place {
  city: string;
  region: string;
  regionCode: string;
  postalCode: string;
  country: string;
}

const PLACES: Readonly<Record<string, readonly Place[]>> = {
  US: [
    {
      city: 'Seattle',
      region: 'Washington',
      regionCode: 'WA',
      postalCode: '98101',
      country: 'United States',
    },
    { city: 'Austin', region: 'Texas', regionCode: 'TX', postalCode: '73301', country: 'United States' },
    {
      city: 'Boston',
      region: 'Massachusetts',
      regionCode: 'MA',
      postalCode: '02108',
      country: 'United States',
    },
  ],
  DE: [
    { city: 'Berlin', region: 'Berlin', regionCode: 'BE', postalCode: '10115', country: 'Germany' },
    { city: 'München', region: 'Bayern', regionCode: 'BY', postalCode: '80331', country: 'Germany' },
  ],
  GB: [
    {
      city: 'London',
      region: 'England',
      regionCode: 'ENG',
      postalCode: 'SW1A 1AA',
      country: 'United Kingdom',
    },
    { city: 'Leeds', region: 'England', regionCode: 'ENG', postalCode: 'LS1 4AP', country: 'United Kingdom' },
  ],
  JP: [{ city: 'Tokyo', region: 'Tokyo', regionCode: 'JP-13', postalCode: '100-0001', country: 'Japan' }],
  AU: [
    {
      city: 'Sydney',
      region: 'New South Wales',
      regionCode: 'NSW',
      postalCode: '2000',
      country: 'Australia',
    },
  ],
};

/** A buyer and shipping address, derived from a number. */
export interface Person {
  firstName: string;
  lastName: string;
  name: string;
  email: string;
  phone: string;
  username: string;
  address1: string;
  address2: string | null;
  city: string;
  region: string;
  regionCode: string;
  postalCode: string;
  country: string;
  countryCode: string;
}

export function personFor(seed: number, countryCode: string): Person {
  const h = mix(seed, 7);
  const firstName = FIRST[h % FIRST.length]!;
  const lastName = LAST[(h >>> 8) % LAST.length]!;
  const places = PLACES[countryCode] ?? PLACES.US!;
  const place = places[(h >>> 16) % places.length]!;
  const tag = (h % 100000).toString(36);
  return {
    firstName,
    lastName,
    name: `${firstName} ${lastName}`,
    email: `${firstName.toLowerCase()}.${tag}@example.com`,
    phone: `+1-555-${String(h % 10000).padStart(4, '0')}`,
    username: `${firstName.toLowerCase()}_${tag}`,
    address1: `${(h % 200) + 1} ${STREETS[(h >>> 4) % STREETS.length]}`,
    address2: h % 5 === 0 ? `Apt ${(h % 40) + 1}` : null,
    ...place,
    countryCode,
  };
}
