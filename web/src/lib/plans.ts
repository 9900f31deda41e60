import type { Plan, UsageItem } from './types';

/** "100 runs a month · 60 a minute": a plan's limits in words ("Unlimited runs" without a quota).
 * The quota counts per subscription period, or per calendar month for free and one-time plans. */
export function planLimits(p: Plan): string {
  const per = p.model === 'subscription' ? `every ${p.period_days ?? 30} days` : 'a month';
  const runs = p.quota ? `${p.quota.toLocaleString('en-US')} runs ${per}` : 'Unlimited runs';
  return p.rate_per_minute ? `${runs} · ${p.rate_per_minute.toLocaleString('en-US')} a minute` : runs;
}

/** "3 of 100 (97 left)" or "3 (unlimited)". */
export function usageLabel(u: Pick<UsageItem, 'used' | 'quota' | 'remaining'>): string {
  const used = u.used.toLocaleString('en-US');
  if (u.quota === null) return `${used} (unlimited)`;
  return `${used} of ${u.quota.toLocaleString('en-US')} (${(u.remaining ?? 0).toLocaleString('en-US')} left)`;
}

/** The verb of a plan's button: subscriptions subscribe, the rest are bought. */
export function planVerb(p: Pick<Plan, 'model'>): string {
  return p.model === 'subscription' ? 'Subscribe' : 'Buy';
}
