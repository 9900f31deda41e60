import { useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { Async, ErrorBox, JsonView, Pager, Spinner, Stars, ToolList } from '../components/common';
import { ReasonForm } from '../components/ReasonForm';
import { ReviewForm } from '../components/ReviewForm';
import { SchemaForm } from '../components/SchemaForm';
import { api, ApiError, problemText } from '../lib/api';
import { checkoutUrl } from '../lib/checkout';
import { day, priceLabel } from '../lib/format';
import { planLimits, planVerb } from '../lib/plans';
import { inputFieldOf } from '../lib/schemaForm';
import { hasRole, useSession } from '../lib/session';
import { useApi } from '../lib/useApi';
import type { Page, Plan, Review, Tool, ToolSummary, Transaction, Version } from '../lib/types';

export default function ToolPage() {
  const { ref = '' } = useParams();
  const tool = useApi<Tool>(`/tools/${encodeURIComponent(ref)}`);
  return (
    <Async state={tool}>
      {(t) => <ToolView key={t.id} tool={t} reload={tool.reload} />}
    </Async>
  );
}

function ToolView({ tool, reload }: { tool: Tool; reload: () => void }) {
  const { user } = useSession();
  const owner = !!user?.developer && user.developer.id === tool.developer.id;
  useEffect(() => {
    document.title = `${tool.name} · Marketplace`;
  }, [tool.name]);
  return (
    <article className="tool">
      <header>
        <h1>{tool.name}</h1>
        <p className="lead">{tool.summary}</p>
        <p className="meta">
          <span>by {tool.developer.display_name}</span>
          <span>{tool.category}</span>
          {tool.latest_version && <span>v{tool.latest_version}</span>}
          <span>{tool.downloads} downloads</span>
          {tool.status !== 'published' && <span className="badge">{tool.status}</span>}
        </p>
        {tool.tags.length > 0 && (
          <ul className="chips" aria-label="Tags">
            {tool.tags.map((t) => (
              <li key={t}>
                <Link to={`/search?tags=${encodeURIComponent(t)}`}>{t}</Link>
              </li>
            ))}
          </ul>
        )}
        {owner && (
          <p>
            <Link to={`/builder/${tool.slug}`}>Edit in the builder</Link> · <Link to={`/plugins?tool=${tool.slug}`}>Manage plugins</Link>
          </p>
        )}
      </header>
      <div className="tool-grid">
        {/* First in the page (on a phone the price and Buy come before the long text); beside it on a wide screen. */}
        <aside>
          <BuyPanel tool={tool} owner={owner} />
          <RatingSummary tool={tool} />
          {!owner && <ReportTool tool={tool} />}
        </aside>
        <div>
          <section aria-labelledby="desc-h">
            <h2 id="desc-h">Description</h2>
            <p className="prewrap">{tool.description || 'No description.'}</p>
          </section>
          <RunPanel tool={tool} />
          <Versions tool={tool} />
          <Reviews tool={tool} owner={owner} onChange={reload} />
        </div>
      </div>
      <Recommendations tool={tool} />
    </article>
  );
}

function BuyPanel({ tool, owner }: { tool: Tool; owner: boolean }) {
  const { user } = useSession();
  const [params, setParams] = useSearchParams();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Transaction | null>(null);
  const returned = params.get('checkout');

  // Back from the payment page: the provider's webhook completes the purchase, usually before the
  // redirect, so a few polls of the transaction settle it.
  useEffect(() => {
    if (!returned || !/^\d+$/.test(returned)) return;
    let stop = false;
    const poll = async (left: number) => {
      try {
        const t = await api.get<Transaction>(`/transactions/${returned}`);
        if (stop) return;
        if (t.status === 'pending' && left > 0) setTimeout(() => void poll(left - 1), 700);
        else setDone(t);
      } catch (e) {
        if (!stop) setError(e);
      }
    };
    void poll(10);
    return () => {
      stop = true;
    };
  }, [returned]);

  const plans = useApi<{ plans: Plan[] }>(`/tools/${tool.id}/plans`);
  const buy = async (plan: Plan) => {
    setBusy(true);
    setError(null);
    try {
      const key = crypto.randomUUID();
      const t = await api.post<Transaction & { checkout_url?: string }>(
        '/transactions',
        { tool_id: tool.id, plan_id: plan.id },
        { 'Idempotency-Key': key },
      );
      if (t.status === 'completed' || !t.checkout_url) {
        setDone(t);
        return;
      }
      window.location.assign(checkoutUrl(t.checkout_url, `/tools/${tool.slug}?checkout=${t.id}`));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="price-h">
      <h2 id="price-h">Pricing</h2>
      {/* with several plans each shows its own price */}
      {(plans.data?.plans.length ?? 1) <= 1 && <p className="price">{priceLabel(tool.pricing)}</p>}
      {done && (
        <p role="status" className={done.status === 'completed' ? 'ok' : 'error'}>
          {done.status === 'completed'
            ? 'Purchase complete. You can run the tool now.'
            : `The payment is ${done.status}.`}{' '}
          {done.status === 'completed' && <Link to="/me/tools">See your receipts</Link>}
          <button type="button" className="link" onClick={() => setParams({}, { replace: true })}>
            Dismiss
          </button>
        </p>
      )}
      {returned && !done && !error && <Spinner label="Confirming your payment…" />}
      <ErrorBox error={error} />
      <Async state={plans}>
        {(d) => (
          <ul className="plans" aria-label="Plans">
            {d.plans.map((p) => (
              <PlanItem
                key={p.id}
                plan={p}
                tool={tool}
                single={d.plans.length === 1}
                canBuy={!owner && tool.status === 'published' && !(done?.status === 'completed' && done.plan_id === p.id && p.model === 'one_time')}
                signedIn={Boolean(user)}
                busy={busy}
                onBuy={buy}
              />
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}

/** One plan: its price and limits, and Buy (or Subscribe) for a paid plan. A tool that sells one plan
 * keeps the button's old name, "Buy <tool>"; with several, each names its plan. Free plans need no
 * purchase: anyone signed in runs the tool on its free plan. */
function PlanItem(props: {
  plan: Plan;
  tool: Tool;
  single: boolean;
  canBuy: boolean;
  signedIn: boolean;
  busy: boolean;
  onBuy: (p: Plan) => void;
}) {
  const { plan: p, tool } = props;
  const verb = planVerb(p);
  return (
    <li className="plan">
      <strong>{p.name}</strong>{' '}
      {!(p.model === 'free' && p.name === 'Free') && <span className="price">{priceLabel(p)}</span>}
      <span className="muted"> · {planLimits(p)}</span>
      {p.model === 'free' ? (
        <span className="muted"> · no purchase needed</span>
      ) : (
        props.canBuy &&
        (props.signedIn ? (
          <button type="button" onClick={() => props.onBuy(p)} disabled={props.busy}>
            {props.single ? `${verb} ${tool.name}` : `${verb}${p.model === 'subscription' ? ' to' : ''} the ${p.name} plan`}
          </button>
        ) : (
          <Link to={`/signin?next=/tools/${tool.slug}`}>Sign in to {verb.toLowerCase()}</Link>
        ))
      )}
    </li>
  );
}

interface RunResult {
  output: unknown;
  version: string;
  duration_us: number;
}

function RunPanel({ tool }: { tool: Tool }) {
  const { user } = useSession();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  if (!tool.latest_version) return null;

  const run = async (input: unknown) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.post<RunResult>(`/tools/${tool.id}/execute`, { input }));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: problemText(e) }));
    } finally {
      setBusy(false);
    }
  };
  // The API names input fields `input.x`; they go next to the form's fields, the rest above it.
  const fieldErrors: Record<string, string> = {};
  const other: string[] = [];
  for (const fe of error?.problem.errors ?? []) {
    const f = inputFieldOf(fe.field);
    if (f && !(f in fieldErrors)) fieldErrors[f] = fe.message;
    else other.push(`${fe.field}: ${fe.message}`);
  }
  return (
    <section className="panel" aria-labelledby="run-h">
      <h2 id="run-h">Run</h2>
      {!user ? (
        <p>
          <Link to={`/signin?next=/tools/${tool.slug}`}>Sign in to run this tool</Link>
        </p>
      ) : (
        <>
          {error && (
            <div role="alert" className="error">
              {error.message}
              {error.status === 402 && error.problem.type?.endsWith(':quota-exceeded')
                ? ` Your plan's runs are used up until ${String(error.problem.period_end ?? '').slice(0, 10)}; another plan allows more.`
                : error.status === 402 && ' Buy the tool to run it.'}
              {other.length > 0 && (
                <ul>
                  {other.map((o) => (
                    <li key={o}>{o}</li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <SchemaForm
            schema={tool.input_schema}
            errors={fieldErrors}
            busy={busy}
            submitLabel="Run"
            onSubmit={run}
          />
          {result && (
            <div className="result">
              <h3>Output</h3>
              <p className="muted">
                Version {result.version} · {(result.duration_us / 1000).toFixed(1)} ms
              </p>
              <JsonView value={result.output} label="Output" />
            </div>
          )}
        </>
      )}
    </section>
  );
}

function ReportTool({ tool }: { tool: Tool }) {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState(false);
  if (!user) return null;
  if (done) return <p role="status">Thanks. A moderator will look at this tool.</p>;
  return open ? (
    <ReasonForm
      id="report-tool"
      title="Report this tool"
      reasons={['malware', 'broken', 'misleading', 'spam', 'other']}
      submitLabel="Send tool report"
      optionalNote
      onSubmit={async (reason, detail) => {
        await api.post(`/tools/${tool.id}/reports`, detail ? { reason, detail } : { reason });
        setDone(true);
      }}
    />
  ) : (
    <button type="button" className="link" onClick={() => setOpen(true)}>
      Report this tool
    </button>
  );
}

function Versions({ tool }: { tool: Tool }) {
  const [page, setPage] = useState(1);
  const versions = useApi<Page<Version>>(`/tools/${tool.id}/versions`, { page, per_page: 5 });
  return (
    <section aria-labelledby="ver-h">
      <h2 id="ver-h">Versions</h2>
      <Async state={versions}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="muted">Not published yet.</p>
          ) : (
            <>
              <ul className="versions">
                {d.items.map((v) => (
                  <li key={v.version}>
                    <strong>{v.version}</strong> <span className="muted">{day(v.created_at)}</span>
                    {v.changelog && <p className="prewrap">{v.changelog}</p>}
                  </li>
                ))}
              </ul>
              <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={setPage} label="Version pages" />
            </>
          )
        }
      </Async>
    </section>
  );
}

function RatingSummary({ tool }: { tool: Tool }) {
  const r = tool.rating;
  const dist = r.distribution ?? {};
  return (
    <section className="panel" aria-labelledby="rating-h">
      <h2 id="rating-h">Rating</h2>
      <p>
        <Stars value={r.average} /> <strong>{r.average.toFixed(1)}</strong> from {r.count} review{r.count === 1 ? '' : 's'}
      </p>
      <table className="dist">
        <caption className="sr-only">Ratings by stars</caption>
        <tbody>
          {[5, 4, 3, 2, 1].map((n) => {
            const c = dist[String(n)] ?? 0;
            const pct = r.count ? Math.round((100 * c) / r.count) : 0;
            return (
              <tr key={n}>
                <th scope="row">{n} stars</th>
                <td>
                  <span className="bar" style={{ width: `${pct}%` }} />
                </td>
                <td>{c}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Reviews({ tool, owner, onChange }: { tool: Tool; owner: boolean; onChange: () => void }) {
  const { user } = useSession();
  const [sort, setSort] = useState('helpful');
  const [page, setPage] = useState(1);
  const [writing, setWriting] = useState(false);
  const list = useApi<Page<Review>>(`/tools/${tool.id}/reviews`, { sort, page, per_page: 10 });
  const refresh = () => {
    list.reload();
    onChange();
  };
  const mine = list.data?.items.find((r) => r.author.id === user?.id);
  return (
    <section aria-labelledby="reviews-h">
      <h2 id="reviews-h">Reviews</h2>
      <div className="toolbar">
        <label htmlFor="review-sort">Sort reviews</label>
        <select
          id="review-sort"
          value={sort}
          onChange={(e) => {
            setSort(e.target.value);
            setPage(1);
          }}
        >
          <option value="helpful">Most helpful</option>
          <option value="newest">Newest</option>
          <option value="rating">Highest rating</option>
        </select>
        {user && !owner && !mine && !writing && (
          <button type="button" onClick={() => setWriting(true)}>
            Write a review
          </button>
        )}
        {!user && <Link to={`/signin?next=/tools/${tool.slug}`}>Sign in to write a review</Link>}
      </div>
      {writing && (
        <ReviewForm
          toolId={tool.id}
          onSaved={() => {
            setWriting(false);
            refresh();
          }}
          onCancel={() => setWriting(false)}
        />
      )}
      <Async state={list}>
        {(d) => (
          <>
            {d.items.length === 0 && <p className="muted">No reviews yet.</p>}
            <ul className="reviews">
              {d.items.map((r) => (
                <ReviewItem key={r.id} review={r} toolOwner={owner} onChange={refresh} />
              ))}
            </ul>
            <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={setPage} label="Review pages" />
          </>
        )}
      </Async>
    </section>
  );
}

function ReviewItem({ review: r, toolOwner, onChange }: { review: Review; toolOwner: boolean; onChange: () => void }) {
  const { user } = useSession();
  const [counts, setCounts] = useState({ helpful: r.helpful_count, unhelpful: r.unhelpful_count });
  const [mode, setMode] = useState<'' | 'edit' | 'report' | 'respond' | 'moderate'>('');
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const mine = user?.id === r.author.id;
  const staff = hasRole(user, 'moderator') || hasRole(user, 'admin');

  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
  };
  const vote = (helpful: boolean) =>
    act(async () => {
      const c = await api.post<{ helpful_count: number; unhelpful_count: number }>(`/reviews/${r.id}/votes`, { helpful });
      setCounts({ helpful: c.helpful_count, unhelpful: c.unhelpful_count });
      setNote('Thanks for your vote.');
    });
  const remove = () =>
    act(async () => {
      if (!window.confirm('Delete your review?')) return;
      await api.del(`/reviews/${r.id}`);
      onChange();
    });

  if (mode === 'edit')
    return (
      <li className="review">
        <ReviewForm
          toolId={r.tool_id}
          existing={r}
          onSaved={() => {
            setMode('');
            onChange();
          }}
          onCancel={() => setMode('')}
        />
      </li>
    );
  return (
    <li className="review">
      <h3>
        <Stars value={r.rating} label={`${r.rating} out of 5 stars`} /> {r.title}
      </h3>
      <p className="muted">
        {r.author.display_name} · {day(r.created_at)}
        {r.verified_purchase && ' · Verified purchase'}
      </p>
      <p className="prewrap">{r.content}</p>
      {r.response && (
        <blockquote className="response">
          <strong>Response from the developer</strong>
          <p className="prewrap">{r.response.content}</p>
        </blockquote>
      )}
      <p className="muted">
        {counts.helpful} found this helpful · {counts.unhelpful} did not
      </p>
      <ErrorBox error={error} />
      {note && <p role="status">{note}</p>}
      {user && (
        <div className="actions">
          {!mine && (
            <>
              <button type="button" onClick={() => vote(true)} aria-label={`Helpful: ${r.title}`}>
                Helpful
              </button>
              <button type="button" onClick={() => vote(false)} aria-label={`Not helpful: ${r.title}`}>
                Not helpful
              </button>
              <button type="button" onClick={() => setMode(mode === 'report' ? '' : 'report')} aria-label={`Report review: ${r.title}`}>
                Report
              </button>
            </>
          )}
          {mine && (
            <>
              <button type="button" onClick={() => setMode('edit')}>
                Edit your review
              </button>
              <button type="button" onClick={remove}>
                Delete your review
              </button>
            </>
          )}
          {toolOwner && (
            <button type="button" onClick={() => setMode(mode === 'respond' ? '' : 'respond')}>
              {r.response ? 'Edit response' : 'Respond'}
            </button>
          )}
          {staff && !mine && (
            <button type="button" onClick={() => setMode(mode === 'moderate' ? '' : 'moderate')} aria-label={`Moderate review: ${r.title}`}>
              Moderate
            </button>
          )}
        </div>
      )}
      {mode === 'report' && (
        <ReasonForm
          id={`report-${r.id}`}
          title="Report this review"
          reasons={['spam', 'abuse', 'off_topic', 'fake', 'other']}
          submitLabel="Send report"
          optionalNote
          onSubmit={async (reason, detail) => {
            await api.post(`/reviews/${r.id}/reports`, detail ? { reason, detail } : { reason });
            setMode('');
            setNote('Report sent. A moderator will look at it.');
          }}
        />
      )}
      {mode === 'moderate' && (
        <ReasonForm
          id={`mod-${r.id}`}
          title="Moderate this review"
          reasons={['hide', 'remove', 'approve']}
          submitLabel="Apply moderation"
          onSubmit={async (action, noteText) => {
            await api.post(`/moderation/reviews/${r.id}`, { action, note: noteText });
            setMode('');
            onChange();
          }}
        />
      )}
      {mode === 'respond' && (
        <RespondForm
          review={r}
          onDone={() => {
            setMode('');
            onChange();
          }}
        />
      )}
    </li>
  );
}

function RespondForm({ review, onDone }: { review: Review; onDone: () => void }) {
  const [content, setContent] = useState(review.response?.content ?? '');
  const [error, setError] = useState<unknown>(null);
  const fields = error instanceof ApiError ? error.fieldErrors : {};
  return (
    <form
      className="inline-form"
      aria-label="Respond to this review"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api.post(`/reviews/${review.id}/response`, { content });
          onDone();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <ErrorBox error={error} />
      <div className="field">
        <label htmlFor={`resp-${review.id}`}>Your response</label>
        <textarea id={`resp-${review.id}`} rows={3} value={content} onChange={(e) => setContent(e.target.value)} />
        {fields.content && <small className="field-error">{fields.content}</small>}
      </div>
      <button type="submit">Publish response</button>
    </form>
  );
}

function Recommendations({ tool }: { tool: Tool }) {
  const recs = useApi<{ similar: ToolSummary[]; bought_together: ToolSummary[] }>(`/tools/${tool.id}/recommendations`);
  return (
    <section aria-labelledby="recs-h">
      <h2 id="recs-h">You might also like</h2>
      <Async state={recs}>
        {(d) => (
          <>
            {d.bought_together.length > 0 && (
              <>
                <h3>Often used together</h3>
                <ToolList tools={d.bought_together} />
              </>
            )}
            <h3>Similar tools</h3>
            <ToolList tools={d.similar} empty="No similar tools yet." />
          </>
        )}
      </Async>
    </section>
  );
}
