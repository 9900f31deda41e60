import type { Pricing } from './types';

const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'ISK', 'HUF']);

export function money(cents: number, currency = 'USD'): string {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : 2;
  const value = digits ? cents / 100 : cents;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

export function priceLabel(p: Pricing | undefined): string {
  if (!p || p.model === 'free') return 'Free';
  const amount = money(p.price_cents ?? 0, p.currency);
  return p.model === 'subscription' ? `${amount} / ${p.period_days ?? 30} days` : amount;
}

export function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : '';
}
