import { useState } from 'react';
import { Link } from 'react-router-dom';
import { Async, Pager } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api } from '../lib/api';
import { day, money } from '../lib/format';
import { hasRole, useSession } from '../lib/session';
import { useApi } from '../lib/useApi';
import type { Page, Review, Transaction } from '../lib/types';
import { ReasonForm } from '../components/ReasonForm';

interface Queue {
  reviews: (Review & { reports: { id: string; reason: string; detail?: string; counted: boolean }[] })[];
  tools: { tool: { id: string; slug: string; name: string; status: string }; open_reports: number; reasons: Record<string, number> }[];
  transactions: Transaction[];
  cap: number;
}

interface Audit {
  id: string;
  actor_id: string;
  action: string;
  target: string;
  note: string;
  created_at: string;
}

export default function Moderation() {
  const { user } = useSession();
  return (
    <RequireUser role="moderator">
      <h1>Moderation</h1>
      <QueueView />
      <ReviewById />
      {hasRole(user, 'admin') && <AuditLog />}
    </RequireUser>
  );
}

function QueueView() {
  const q = useApi<Queue>('/moderation/queue');
  return (
    <Async state={q}>
      {(d) => (
        <>
          <section aria-labelledby="mq-r">
            <h2 id="mq-r">Hidden reviews with reports ({d.reviews.length})</h2>
            {d.reviews.length === 0 && <p className="muted">Nothing waiting.</p>}
            <ul className="reviews">
              {d.reviews.map((r) => (
                <li key={r.id} className="review">
                  <h3>{r.title}</h3>
                  <p className="prewrap">{r.content}</p>
                  <p className="muted">
                    {r.rating} stars by {r.author.display_name} on <Link to={`/tools/${r.tool_id}`}>tool {r.tool_id}</Link>
                  </p>
                  <p>Reports: {r.reports.map((x) => x.reason + (x.detail ? ` (“${x.detail}”)` : '')).join('; ')}</p>
                  <ReasonForm
                    id={`q-review-${r.id}`}
                    title={`Moderate review ${r.title}`}
                    reasons={['approve', 'hide', 'remove']}
                    submitLabel="Apply moderation"
                    onSubmit={async (action, note) => {
                      await api.post(`/moderation/reviews/${r.id}`, { action, note });
                      q.reload();
                    }}
                  />
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="mq-t">
            <h2 id="mq-t">Reported tools ({d.tools.length})</h2>
            {d.tools.length === 0 && <p className="muted">Nothing waiting.</p>}
            <ul className="reviews">
              {d.tools.map((t) => (
                <li key={t.tool.id} className="review">
                  <h3>
                    <Link to={`/tools/${t.tool.slug}`}>{t.tool.name}</Link> <span className="badge">{t.tool.status}</span>
                  </h3>
                  <p>
                    {t.open_reports} open reports:{' '}
                    {Object.entries(t.reasons)
                      .filter(([, n]) => n > 0)
                      .map(([k, n]) => `${k} ${n}`)
                      .join(', ')}
                  </p>
                  <ReasonForm
                    id={`q-tool-${t.tool.id}`}
                    title={`Moderate tool ${t.tool.name}`}
                    reasons={['delist', 'restore']}
                    submitLabel="Apply moderation"
                    onSubmit={async (action, note) => {
                      await api.post(`/moderation/tools/${t.tool.id}`, { action, note });
                      q.reload();
                    }}
                  />
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="mq-x">
            <h2 id="mq-x">Flagged transactions ({d.transactions.length})</h2>
            {d.transactions.length === 0 ? (
              <p className="muted">Nothing flagged.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Id</th>
                      <th scope="col">Tool</th>
                      <th scope="col">Amount</th>
                      <th scope="col">Status</th>
                      <th scope="col">Date</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.transactions.map((t) => (
                      <tr key={t.id}>
                        <td>{t.id}</td>
                        <td>{t.tool_id}</td>
                        <td>{money(t.amount_cents, t.currency)}</td>
                        <td>{t.status}</td>
                        <td>{day(t.created_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </Async>
  );
}

/** A visible review reported too few times to be hidden is not in the queue; a moderator who has
 * its id (from a report or the tool page) acts on it here. */
function ReviewById() {
  const [id, setId] = useState('');
  const [done, setDone] = useState<string | null>(null);
  return (
    <section aria-labelledby="mq-id">
      <h2 id="mq-id">Act on a review by id</h2>
      <div className="field">
        <label htmlFor="mod-review-id">Review id</label>
        <input id="mod-review-id" inputMode="numeric" value={id} onChange={(e) => setId(e.target.value.trim())} />
      </div>
      {done && <p role="status">{done}</p>}
      <ReasonForm
        id="by-id"
        title="Moderate a review by id"
        reasons={['hide', 'remove', 'approve']}
        submitLabel="Apply moderation"
        onSubmit={async (action, note) => {
          await api.post(`/moderation/reviews/${encodeURIComponent(id)}`, { action, note });
          setDone(`Review ${id}: ${action} done.`);
        }}
      />
    </section>
  );
}

function AuditLog() {
  const [page, setPage] = useState(1);
  const log = useApi<Page<Audit>>('/moderation/audit', { page, per_page: 20 });
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <Async state={log}>
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Note</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((a) => (
                    <tr key={a.id}>
                      <td>{a.created_at.replace('T', ' ').slice(0, 19)}</td>
                      <td>{a.actor_id}</td>
                      <td>{a.action}</td>
                      <td>{a.target}</td>
                      <td className="prewrap">{a.note}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={setPage} label="Audit pages" />
          </>
        )}
      </Async>
    </section>
  );
}
