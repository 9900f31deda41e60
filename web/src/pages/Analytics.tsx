import { useMemo, useState } from 'react';
import { Async } from '../components/common';
import { ChartWithTable } from '../components/Chart';
import { RequireUser } from '../components/RequireUser';
import { money } from '../lib/format';
import { useApi } from '../lib/useApi';
import type { AnalyticsTool } from './Dashboard';

interface Earnings {
  by_month: { month: string; currency: string; sales: number; net_cents: number }[];
}

export default function Analytics() {
  return (
    <RequireUser role="developer">
      <h1>Analytics</h1>
      <AnalyticsView />
    </RequireUser>
  );
}

function AnalyticsView() {
  const data = useApi<{ days: number; tools: AnalyticsTool[] }>('/developers/me/analytics');
  const earnings = useApi<Earnings>('/developers/me/earnings');
  const [pick, setPick] = useState('all');
  return (
    <Async state={data}>
      {(d) => (
        <>
          <div className="toolbar">
            <label htmlFor="an-tool">Tool</label>
            <select id="an-tool" value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="all">All tools (total)</option>
              {d.tools.map((t) => (
                <option key={t.tool_id} value={t.tool_id}>
                  {t.name}
                </option>
              ))}
            </select>
          </div>
          <Report tools={pick === 'all' ? d.tools : d.tools.filter((t) => t.tool_id === pick)} earnings={earnings.data} all={pick === 'all'} span={d.days || 30} />
        </>
      )}
    </Async>
  );
}

/** The last n UTC days, oldest first, as YYYY-MM-DD. */
function lastDays(n: number): string[] {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return Array.from({ length: n }, (_, i) => new Date(today - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

function sum(tools: AnalyticsTool[], k: 'views' | 'downloads' | 'executions' | 'sales'): number {
  return tools.reduce((n, t) => n + (t[k] ?? 0), 0);
}

function Report({ tools, earnings, all, span }: { tools: AnalyticsTool[]; earnings?: Earnings; all: boolean; span: number }) {
  const daily = useMemo(() => {
    const byDay = new Map<string, { views: number; executions: number; sales: number }>();
    for (const t of tools)
      for (const d of t.daily) {
        const e = byDay.get(d.day) ?? { views: 0, executions: 0, sales: 0 };
        e.views += d.views;
        e.executions += d.executions;
        e.sales += d.sales;
        byDay.set(d.day, e);
      }
    const at = (x: string) => byDay.get(x) ?? { views: 0, executions: 0, sales: 0 };
    // Every one of the last `days` UTC days, so the line shows the quiet days too.
    const days = lastDays(span);
    return {
      labels: days,
      series: [
        { label: 'Views', color: '#1f5fbf', values: days.map((x) => at(x).views) },
        { label: 'Executions', color: '#0a7a3d', values: days.map((x) => at(x).executions) },
        { label: 'Sales', color: '#a0410d', values: days.map((x) => at(x).sales) },
      ],
    };
  }, [tools, span]);

  const rating = useMemo(() => {
    const months = new Map<string, { count: number; total: number }>();
    for (const t of tools)
      for (const m of t.rating_over_time) {
        const e = months.get(m.month) ?? { count: 0, total: 0 };
        e.count += m.count;
        e.total += m.average * m.count;
        months.set(m.month, e);
      }
    const labels = [...months.keys()].sort();
    return {
      labels,
      series: [
        { label: 'Average rating', color: '#7a5a00', values: labels.map((m) => Math.round((100 * months.get(m)!.total) / months.get(m)!.count) / 100) },
        { label: 'Reviews', color: '#555', values: labels.map((m) => months.get(m)!.count) },
      ],
    };
  }, [tools]);

  // Revenue by month comes from the ledger for all tools together (the API has no per-tool months).
  const revenue = useMemo(() => {
    const rows = [...(earnings?.by_month ?? [])].reverse();
    const currencies = [...new Set(rows.map((r) => r.currency))];
    const labels = [...new Set(rows.map((r) => r.month))];
    return {
      labels,
      series: currencies.map((c, i) => ({
        label: `Net ${c} (cents)`,
        color: ['#1f5fbf', '#a0410d', '#0a7a3d'][i % 3],
        values: labels.map((m) => rows.find((r) => r.month === m && r.currency === c)?.net_cents ?? 0),
      })),
    };
  }, [earnings]);

  return (
    <>
      <section aria-labelledby="tot-h">
        <h2 id="tot-h">Totals</h2>
        <dl className="stats">
          <div>
            <dt>Views</dt>
            <dd>{sum(tools, 'views')}</dd>
          </div>
          <div>
            <dt>Executions</dt>
            <dd>{sum(tools, 'executions')}</dd>
          </div>
          <div>
            <dt>Downloads</dt>
            <dd>{sum(tools, 'downloads')}</dd>
          </div>
          <div>
            <dt>Sales</dt>
            <dd>{sum(tools, 'sales')}</dd>
          </div>
          <div>
            <dt>Revenue</dt>
            <dd>{tools.flatMap((t) => t.revenue).map((r) => money(r.developer_cents, r.currency)).join(', ') || '—'}</dd>
          </div>
        </dl>
      </section>
      <ChartWithTable
        title={`Last ${span} days: views, executions, sales`}
        labels={daily.labels}
        series={daily.series}
        quietRows="Days not listed had no views, executions or sales."
      />
      {all && <ChartWithTable title="Revenue by month (all tools)" labels={revenue.labels} series={revenue.series} />}
      <ChartWithTable title="Rating over time" labels={rating.labels} series={rating.series} />
    </>
  );
}
