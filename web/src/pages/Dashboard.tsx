import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { Async, ErrorBox, Field, Pager, Stars } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api } from '../lib/api';
import { day, money } from '../lib/format';
import { useApi } from '../lib/useApi';
import { useSubmit } from '../lib/useSubmit';
import { useSession } from '../lib/session';
import type { Page, ToolSummary } from '../lib/types';

export interface AnalyticsTool {
  tool_id: string;
  slug: string;
  name: string;
  status: string;
  views: number;
  downloads: number;
  executions: number;
  sales: number;
  revenue: { currency: string; revenue_cents: number; developer_cents: number }[];
  rating: { average: number; count: number };
  review_count: number;
  rating_over_time: { month: string; count: number; average: number }[];
  daily: { day: string; views: number; executions: number; sales: number }[];
}

interface Earnings {
  balances: { currency: string; available_cents: number; pending_payout_cents: number; paid_out_cents: number; lifetime_cents: number }[];
  by_month: { month: string; currency: string; sales: number; net_cents: number }[];
}

interface Payout {
  id: string;
  amount_cents: number;
  currency: string;
  status: string;
  created_at: string;
  failure_reason?: string;
}

export default function Dashboard() {
  return (
    <RequireUser role="developer">
      <h1>Dashboard</h1>
      <p>
        <Link to="/builder/new">Create a tool</Link> · <Link to="/analytics">Analytics</Link>
      </p>
      <MyToolsTable />
      <Balances />
    </RequireUser>
  );
}

function MyToolsTable() {
  const { user } = useSession();
  const data = useApi<{ tools: AnalyticsTool[] }>('/developers/me/analytics');
  // Latest versions of the published tools (analytics does not carry them); drafts have none.
  const published = useApi<{ tools: ToolSummary[] }>(user?.developer ? '/search' : null, {
    developer: user?.developer?.id,
    sort: 'newest',
    per_page: 100,
  });
  const latest = new Map((published.data?.tools ?? []).map((t) => [t.id, t.latest_version]));
  return (
    <section aria-labelledby="dt-h">
      <h2 id="dt-h">My tools</h2>
      <Async state={data}>
        {(d) =>
          d.tools.length === 0 ? (
            <p className="muted">
              No tools yet. <Link to="/builder/new">Create your first tool</Link>.
            </p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Tool</th>
                    <th scope="col">Status</th>
                    <th scope="col">Latest version</th>
                    <th scope="col">Rating</th>
                    <th scope="col">Sales</th>
                    <th scope="col">Revenue</th>
                    <th scope="col">Edit</th>
                  </tr>
                </thead>
                <tbody>
                  {d.tools.map((t) => (
                    <tr key={t.tool_id}>
                      <td>
                        <Link to={`/tools/${t.slug}`}>{t.name}</Link>
                      </td>
                      <td>{t.status}</td>
                      <td>{latest.get(t.tool_id) ?? '—'}</td>
                      <td>
                        <Stars value={t.rating.average} /> ({t.rating.count})
                      </td>
                      <td>{t.sales}</td>
                      <td>{t.revenue.map((r) => money(r.developer_cents, r.currency)).join(', ') || '—'}</td>
                      <td>
                        <Link to={`/builder/${t.slug}`} aria-label={`Edit ${t.name}`}>
                          Edit
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </section>
  );
}

function Balances() {
  const earnings = useApi<Earnings>('/developers/me/earnings');
  const [page, setPage] = useState(1);
  const payouts = useApi<Page<Payout>>('/developers/me/payouts', { page, per_page: 10 });
  const reload = () => {
    earnings.reload();
    payouts.reload();
  };
  return (
    <>
      <section aria-labelledby="bal-h">
        <h2 id="bal-h">Balances</h2>
        <Async state={earnings}>
          {(d) =>
            d.balances.length === 0 ? (
              <p className="muted">No earnings yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Currency</th>
                      <th scope="col">Available</th>
                      <th scope="col">Pending payout</th>
                      <th scope="col">Paid out</th>
                      <th scope="col">Lifetime</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.balances.map((b) => (
                      <tr key={b.currency}>
                        <td>{b.currency}</td>
                        <td>{money(b.available_cents, b.currency)}</td>
                        <td>{money(b.pending_payout_cents, b.currency)}</td>
                        <td>{money(b.paid_out_cents, b.currency)}</td>
                        <td>{money(b.lifetime_cents, b.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Async>
        <PayoutForm currencies={earnings.data?.balances.map((b) => b.currency) ?? []} onDone={reload} />
      </section>
      <section aria-labelledby="po-h">
        <h2 id="po-h">Payout history</h2>
        <Async state={payouts}>
          {(d) =>
            d.items.length === 0 ? (
              <p className="muted">No payouts yet.</p>
            ) : (
              <>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Date</th>
                        <th scope="col">Amount</th>
                        <th scope="col">Status</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.items.map((p) => (
                        <tr key={p.id}>
                          <td>{day(p.created_at)}</td>
                          <td>{money(p.amount_cents, p.currency)}</td>
                          <td>
                            {p.status}
                            {p.failure_reason ? ` (${p.failure_reason})` : ''}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={setPage} label="Payout pages" />
              </>
            )
          }
        </Async>
      </section>
    </>
  );
}

function PayoutForm({ currencies, onDone }: { currencies: string[]; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const { error, fields, busy, run } = useSubmit();
  const cur = currency || currencies[0] || 'USD';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    void run(async () => {
      const cents = Math.round(Number(amount) * 100);
      const r = await api.post<{ payout: Payout }>('/developers/me/payouts', { amount_cents: cents, currency: cur });
      setDone(`Payout of ${money(r.payout.amount_cents, r.payout.currency)} requested.`);
      setAmount('');
      onDone();
    });
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-label="Request a payout" noValidate>
      <h3>Request a payout</h3>
      <ErrorBox error={error} />
      {done && <p role="status">{done}</p>}
      <Field id="po-amount" label="Amount" error={fields.amount_cents} required>
        <input id="po-amount" type="number" min="0" step="0.01" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </Field>
      <Field id="po-currency" label="Currency" error={fields.currency}>
        <select id="po-currency" value={cur} onChange={(e) => setCurrency(e.target.value)}>
          {(currencies.length ? currencies : ['USD']).map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </Field>
      <button type="submit" disabled={busy}>
        Request payout
      </button>
    </form>
  );
}
