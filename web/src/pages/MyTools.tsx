import { useState } from 'react';
import { Link } from 'react-router-dom';
import { Async, ErrorBox, JsonView, Pager } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api } from '../lib/api';
import { day, money } from '../lib/format';
import { usageLabel } from '../lib/plans';
import { subscriptionEnds } from '../lib/subscriptions';
import { useApi } from '../lib/useApi';
import type { Page, Transaction, UsageItem } from '../lib/types';

export default function MyTools() {
  return (
    <RequireUser>
      <h1>My tools</h1>
      <Usage />
      <Purchases />
      <Subscriptions />
    </RequireUser>
  );
}

/** What the buyer used of each tool's plan in the current period. */
function Usage() {
  const usage = useApi<{ items: UsageItem[] }>('/me/usage');
  return (
    <section aria-labelledby="usage-h">
      <h2 id="usage-h">Usage</h2>
      <Async state={usage}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="muted">No runs on a plan yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Tool</th>
                    <th scope="col">Plan</th>
                    <th scope="col">Period</th>
                    <th scope="col">Runs</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((u) => (
                    <tr key={u.tool_id}>
                      <td>
                        <Link to={`/tools/${u.slug}`}>{u.name}</Link>
                      </td>
                      <td>{u.plan.name}</td>
                      <td>
                        {day(u.period_start)} – {day(u.period_end)}
                      </td>
                      <td>{usageLabel(u)}</td>
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

function Purchases() {
  const [page, setPage] = useState(1);
  const list = useApi<Page<Transaction>>('/transactions', { as: 'buyer', page, per_page: 20 });
  return (
    <section aria-labelledby="purch-h">
      <h2 id="purch-h">Purchases</h2>
      <Async state={list}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="muted">
              No purchases yet. <Link to="/search">Browse the tools</Link>.
            </p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Date</th>
                      <th scope="col">Tool</th>
                      <th scope="col">Amount</th>
                      <th scope="col">Status</th>
                      <th scope="col">Receipt</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((t) => (
                      <tr key={t.id}>
                        <td>{day(t.created_at)}</td>
                        <td>
                          <Link to={`/tools/${t.tool_id}`}>Tool {t.tool_id}</Link>
                        </td>
                        <td>{money(t.amount_cents, t.currency)}</td>
                        <td>{t.status}</td>
                        <td>{t.status === 'completed' || t.status === 'refunded' ? <ReceiptCell txn={t} /> : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={setPage} label="Purchase pages" />
            </>
          )
        }
      </Async>
    </section>
  );
}

interface Verify {
  valid: boolean;
  signature_valid: boolean;
  status?: string;
  reason?: string;
  claims?: unknown;
}

function ReceiptCell({ txn }: { txn: Transaction }) {
  const [result, setResult] = useState<Verify | null>(null);
  const [error, setError] = useState<unknown>(null);
  const verify = async () => {
    setError(null);
    try {
      const { receipt } = await api.get<{ receipt: string }>(`/transactions/${txn.id}/receipt`);
      setResult(await api.post<Verify>('/receipts/verify', { receipt }));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      <button type="button" onClick={verify} aria-label={`Verify receipt of purchase ${txn.id}`}>
        Verify
      </button>
      <ErrorBox error={error} />
      {result && (
        <div role="status">
          <p className={result.valid ? 'ok' : 'error'}>
            {result.valid ? 'Valid receipt' : `Not valid: ${result.reason ?? result.status ?? 'unknown'}`}
          </p>
          {result.claims !== undefined && (
            <details>
              <summary>Receipt claims</summary>
              <JsonView value={result.claims} label="Receipt claims" />
            </details>
          )}
        </div>
      )}
    </div>
  );
}

function Subscriptions() {
  // Subscriptions are read from every purchase (100 a page, the API's maximum) to add up periods.
  const list = useApi<Page<Transaction>>('/transactions', { as: 'buyer', per_page: 100 });
  return (
    <section aria-labelledby="subs-h">
      <h2 id="subs-h">Subscriptions</h2>
      <Async state={list}>
        {(d) => {
          const subs = subscriptionEnds(d.items);
          if (subs.length === 0) return <p className="muted">No subscriptions.</p>;
          const now = Date.now();
          return (
            <ul>
              {subs.map((s) => (
                <li key={s.tool_id}>
                  <Link to={`/tools/${s.tool_id}`}>Tool {s.tool_id}</Link>:{' '}
                  {s.ends_at.getTime() > now ? 'active until' : 'ended'} {s.ends_at.toISOString().slice(0, 10)}
                </li>
              ))}
            </ul>
          );
        }}
      </Async>
    </section>
  );
}
