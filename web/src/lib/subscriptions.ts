import type { Transaction } from './types';

export interface SubscriptionEnd {
  tool_id: string;
  ends_at: Date;
}

const DAY_MS = 86_400_000;

/** When each subscription ends, from the buyer's completed subscription purchases: a purchase
 * extends the period from its end, or from the purchase when it had lapsed (the API's rule). */
export function subscriptionEnds(txns: Transaction[]): SubscriptionEnd[] {
  const done = txns
    .filter((t) => t.pricing_model === 'subscription' && t.status === 'completed' && t.completed_at)
    .sort((a, b) => Date.parse(a.completed_at!) - Date.parse(b.completed_at!));
  const ends = new Map<string, number>();
  for (const t of done) {
    const at = Date.parse(t.completed_at!);
    const from = Math.max(ends.get(t.tool_id) ?? 0, at);
    ends.set(t.tool_id, from + (t.period_days ?? 30) * DAY_MS);
  }
  return [...ends].map(([tool_id, end]) => ({ tool_id, ends_at: new Date(end) }));
}
