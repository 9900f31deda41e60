import { describe, expect, it } from 'vitest';
import { checkoutUrl } from '../../src/lib/checkout';
import { planLimits, planVerb, usageLabel } from '../../src/lib/plans';
import { rowsOf, withRows } from '../../src/lib/schemaEdit';
import { subscriptionEnds } from '../../src/lib/subscriptions';
import type { Plan, Transaction } from '../../src/lib/types';

describe('builder schema rows', () => {
  it('reads properties as rows and writes them back, keeping other keywords', () => {
    const text = JSON.stringify({ type: 'object', required: ['a'], properties: { a: { type: 'string', maxLength: 5 }, b: { type: 'integer' } } });
    expect(rowsOf(text)).toEqual([
      { name: 'a', type: 'string', required: true },
      { name: 'b', type: 'integer', required: false },
    ]);
    const next = JSON.parse(withRows(text, [{ name: 'a', type: 'string', required: false }, { name: 'c', type: 'boolean', required: true }]));
    expect(next).toEqual({ type: 'object', required: ['c'], properties: { a: { type: 'string', maxLength: 5 }, c: { type: 'boolean' } } });
  });
  it('has no rows for text that is not an object schema', () => {
    expect(rowsOf('{')).toBeNull();
    expect(rowsOf('{"type":"array"}')).toBeNull();
    expect(rowsOf('{}')).toEqual([]);
  });
});

describe('subscription ends', () => {
  const sub = (id: string, tool: string, at: string, days = 30, status: Transaction['status'] = 'completed'): Transaction => ({
    id, tool_id: tool, status, amount_cents: 100, currency: 'USD', pricing_model: 'subscription', period_days: days,
    created_at: at, completed_at: at,
  });
  it('extends from the end while active and from the purchase after a lapse', () => {
    const ends = subscriptionEnds([
      sub('1', '5', '2026-01-01T00:00:00Z'),
      sub('2', '5', '2026-01-10T00:00:00Z'),
      sub('3', '6', '2026-01-01T00:00:00Z', 10),
      sub('4', '6', '2026-03-01T00:00:00Z', 10),
      sub('5', '6', '2026-04-01T00:00:00Z', 10, 'refunded'),
    ]);
    const byTool = Object.fromEntries(ends.map((e) => [e.tool_id, e.ends_at.toISOString().slice(0, 10)]));
    expect(byTool).toEqual({ '5': '2026-03-02', '6': '2026-03-11' });
  });
});

describe('checkout url', () => {
  it('adds return_to (encoded) and keeps a same-origin URL relative', () => {
    expect(checkoutUrl('/testpay/checkout/7?amount_cents=500&currency=USD', '/tools/x?checkout=7', 'http://a.test')).toBe(
      '/testpay/checkout/7?amount_cents=500&currency=USD&return_to=%2Ftools%2Fx%3Fcheckout%3D7',
    );
  });
  it('leaves a provider-given return_to and another origin alone', () => {
    expect(checkoutUrl('https://pay.test/c/1?return_to=%2Fx', '/y', 'http://a.test')).toBe('https://pay.test/c/1?return_to=%2Fx');
  });
});

describe('plans', () => {
  const plan = (over: Partial<Plan>): Plan => ({ id: '1', name: 'Free', model: 'free', price_cents: 0, currency: 'USD', default: true, ...over });
  it('says a plan\'s limits in words', () => {
    expect(planLimits(plan({}))).toBe('Unlimited runs');
    expect(planLimits(plan({ quota: 1000, rate_per_minute: 60 }))).toBe('1,000 runs a month · 60 a minute');
    expect(planLimits(plan({ model: 'subscription', period_days: 7, quota: 5 }))).toBe('5 runs every 7 days');
  });
  it('says what was used of a quota', () => {
    expect(usageLabel({ used: 3, quota: 100, remaining: 97 })).toBe('3 of 100 (97 left)');
    expect(usageLabel({ used: 1234, quota: null, remaining: null })).toBe('1,234 (unlimited)');
  });
  it('subscribes to subscriptions and buys the rest', () => {
    expect(planVerb({ model: 'subscription' })).toBe('Subscribe');
    expect(planVerb({ model: 'one_time' })).toBe('Buy');
  });
});
