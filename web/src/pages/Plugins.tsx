import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { Async, ErrorBox, JsonView, Pager } from '../components/common';
import { SearchBox } from '../components/SearchBox';
import { api, ApiError } from '../lib/api';
import { useSession } from '../lib/session';
import { useApi } from '../lib/useApi';
import type { Tool } from '../lib/types';

interface Plugin {
  name: string;
  description?: string;
  latest_version?: string | null;
  versions?: { version: string; hooks?: string[]; created_at?: string }[];
}

interface Attached {
  name: string;
  range?: string;
  version?: string;
}

interface TraceEntry {
  plugin: string;
  version: string;
  hook: string;
  duration_us: number;
  changed: boolean;
}

/** Lists answer either a paged object or a bare array; both read as items. */
function itemsOf<T>(d: unknown, key = 'items'): T[] {
  if (Array.isArray(d)) return d as T[];
  const o = d as Record<string, unknown> | undefined;
  const v = o?.[key] ?? o?.plugins;
  return Array.isArray(v) ? (v as T[]) : [];
}

export default function Plugins() {
  const { name } = useParams();
  const [params] = useSearchParams();
  const toolRef = params.get('tool');
  if (toolRef) return <ToolPlugins toolRef={toolRef} />;
  if (name) return <PluginDetail name={name} />;
  return <PluginBrowser />;
}

function PluginBrowser() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;
  const list = useApi<{ items?: Plugin[]; total?: number; page?: number; per_page?: number }>('/plugins', { q, page });
  return (
    <section aria-labelledby="pl-h">
      <h1 id="pl-h">Plugins</h1>
      <SearchBox initial={q} onSearch={(v) => setParams(v ? { q: v } : {})} />
      <Async state={list}>
        {(d) => {
          const items = itemsOf<Plugin>(d);
          return (
            <>
              {items.length === 0 ? (
                <p className="muted">No plugins found.</p>
              ) : (
                <ul className="cards">
                  {items.map((p) => (
                    <li className="card" key={p.name}>
                      <h2>
                        <Link to={`/plugins/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                      </h2>
                      <p>{p.description}</p>
                      {p.latest_version && <p className="muted">latest {p.latest_version}</p>}
                    </li>
                  ))}
                </ul>
              )}
              {d.total !== undefined && (
                <Pager
                  page={d.page ?? page}
                  perPage={d.per_page ?? 20}
                  total={d.total}
                  onPage={(p) => setParams({ ...(q ? { q } : {}), page: String(p) })}
                  label="Plugin pages"
                />
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}

function PluginDetail({ name }: { name: string }) {
  const p = useApi<Plugin>(`/plugins/${encodeURIComponent(name)}`);
  return (
    <Async state={p}>
      {(d) => (
        <section>
          <h1>{d.name}</h1>
          <p>{d.description}</p>
          <h2>Versions</h2>
          <ul>
            {(d.versions ?? []).map((v) => (
              <li key={v.version}>
                <strong>{v.version}</strong> {v.hooks && <span className="muted">hooks: {v.hooks.join(', ')}</span>}
              </li>
            ))}
          </ul>
          <p>
            <Link to="/plugins">All plugins</Link>
          </p>
        </section>
      )}
    </Async>
  );
}

function ToolPlugins({ toolRef }: { toolRef: string }) {
  const { user } = useSession();
  const tool = useApi<Tool>(`/tools/${encodeURIComponent(toolRef)}`);
  const attached = useApi<unknown>(`/tools/${encodeURIComponent(toolRef)}/plugins`);
  const [rows, setRows] = useState<Attached[] | null>(null);
  const [resolved, setResolved] = useState<Attached[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [input, setInput] = useState('{}');
  const [trace, setTrace] = useState<{ output: unknown; trace?: TraceEntry[] } | null>(null);
  const current = rows ?? itemsOf<Attached>(attached.data).map((a) => ({ name: a.name, range: a.range ?? a.version ?? '*' }));
  const owner = !!user?.developer && tool.data?.developer.id === user.developer.id;

  const save = async () => {
    setError(null);
    try {
      const r = await api.put<unknown>(`/tools/${encodeURIComponent(toolRef)}/plugins`, current.map((x) => ({ name: x.name, range: x.range })));
      setResolved(itemsOf<Attached>(r));
    } catch (e) {
      setError(e);
    }
  };
  const runTrace = async () => {
    setError(null);
    try {
      const parsed = JSON.parse(input);
      setTrace(await api.post(`/tools/${encodeURIComponent(toolRef)}/execute?trace=1`, { input: parsed }));
    } catch (e) {
      setError(e instanceof SyntaxError ? new ApiError({ status: 0, detail: 'The input is not valid JSON.' }) : e);
    }
  };

  return (
    <section aria-labelledby="tp-h">
      <h1 id="tp-h">Plugins of {tool.data?.name ?? toolRef}</h1>
      <ErrorBox error={error} />
      <Async state={attached}>
        {() => (
          <>
            <table className="rows">
              <caption className="sr-only">Attached plugins</caption>
              <thead>
                <tr>
                  <th scope="col">Plugin</th>
                  <th scope="col">Version range</th>
                  {owner && <th scope="col">Remove</th>}
                </tr>
              </thead>
              <tbody>
                {current.map((a, i) => (
                  <tr key={i}>
                    <td>
                      {owner ? (
                        <input aria-label={`Plugin ${i + 1} name`} value={a.name} onChange={(e) => setRows(current.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
                      ) : (
                        a.name
                      )}
                    </td>
                    <td>
                      {owner ? (
                        <input aria-label={`Plugin ${i + 1} range`} value={a.range} onChange={(e) => setRows(current.map((x, j) => (j === i ? { ...x, range: e.target.value } : x)))} />
                      ) : (
                        a.range
                      )}
                    </td>
                    {owner && (
                      <td>
                        <button type="button" onClick={() => setRows(current.filter((_, j) => j !== i))} aria-label={`Remove plugin ${a.name || i + 1}`}>
                          Remove
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
            {owner && (
              <div className="actions">
                <button type="button" onClick={() => setRows([...current, { name: '', range: '^1.0.0' }])}>
                  Add plugin
                </button>
                <button type="button" onClick={save}>
                  Save plugins
                </button>
              </div>
            )}
          </>
        )}
      </Async>
      {error instanceof ApiError && error.status === 422 && <p className="error">Conflict: {error.message}</p>}
      {resolved && (
        <>
          <h2>Resolved order</h2>
          <ol>
            {resolved.map((r) => (
              <li key={r.name}>
                {r.name} {r.version}
              </li>
            ))}
          </ol>
        </>
      )}
      {owner && (
        <>
          <h2>Test run with trace</h2>
          <div className="field">
            <label htmlFor="trace-input">Input (JSON)</label>
            <textarea id="trace-input" className="code" rows={3} value={input} onChange={(e) => setInput(e.target.value)} />
          </div>
          <button type="button" onClick={runTrace}>
            Run with trace
          </button>
          {trace && (
            <>
              <JsonView value={trace.output} label="Output" />
              <table>
                <caption>Trace</caption>
                <thead>
                  <tr>
                    <th scope="col">Plugin</th>
                    <th scope="col">Version</th>
                    <th scope="col">Hook</th>
                    <th scope="col">Duration (µs)</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {(trace.trace ?? []).map((t, i) => (
                    <tr key={i}>
                      <td>{t.plugin}</td>
                      <td>{t.version}</td>
                      <td>{t.hook}</td>
                      <td>{t.duration_us}</td>
                      <td>{t.changed ? 'yes' : 'no'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}
