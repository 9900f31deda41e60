import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { Async, ErrorBox, JsonView, Pager } from '../components/common';
import { api, ApiError } from '../lib/api';
import { day } from '../lib/format';
import { useSession } from '../lib/session';
import { useApi } from '../lib/useApi';
import type { Page, Tool } from '../lib/types';

interface PluginSummary {
  name: string;
  description: string;
  latest_version: string;
  deprecated: boolean;
  developer_id: string;
}

interface Plugin extends PluginSummary {
  versions: { version: string; description: string; hooks: Record<string, string>; dependencies: Record<string, string>; priority: number; created_at: string }[];
}

interface ToolPluginSet {
  requested: { name: string; range: string }[];
  plugins: { name: string; version: string; priority: number; deprecated: boolean; hooks: string[] }[];
}

interface TraceEntry {
  plugin: string;
  version: string;
  hook: string;
  duration_us: number;
  changed: boolean;
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
  const [text, setText] = useState(q);
  const list = useApi<Page<PluginSummary>>('/plugins', { q, page });
  return (
    <section aria-labelledby="pl-h">
      <h1 id="pl-h">Plugins</h1>
      <p>Plugins filter a tool's input and output (and reviews) with Lua hooks. A tool's developer attaches them from the tool page.</p>
      <form
        role="search"
        className="searchbox"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(text ? { q: text } : {});
        }}
      >
        <label htmlFor="pl-q" className="sr-only">
          Plugin name starts with
        </label>
        <input id="pl-q" type="search" placeholder="Plugin name starts with…" value={text} onChange={(e) => setText(e.target.value.toLowerCase())} />
        <button type="submit">Search plugins</button>
      </form>
      <Async state={list}>
        {(d) => (
          <>
            {d.items.length === 0 ? (
              <p className="muted">No plugins found.</p>
            ) : (
              <ul className="cards">
                {d.items.map((p) => (
                  <li className="card" key={p.name}>
                    <h2>
                      <Link to={`/plugins/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                    </h2>
                    <p>{p.description}</p>
                    <p className="muted">
                      latest {p.latest_version}
                      {p.deprecated && ' · deprecated'}
                    </p>
                  </li>
                ))}
              </ul>
            )}
            <Pager page={d.page} perPage={d.per_page} total={d.total} onPage={(p) => setParams({ ...(q ? { q } : {}), page: String(p) })} label="Plugin pages" />
          </>
        )}
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
          {d.deprecated && <p className="notice">Deprecated by its developer; tools using it keep working.</p>}
          <p>{d.description}</p>
          <h2>Versions</h2>
          <ul className="versions">
            {d.versions.map((v) => (
              <li key={v.version}>
                <strong>{v.version}</strong> <span className="muted">{day(v.created_at)}</span>
                <p>
                  Hooks: {Object.keys(v.hooks).join(', ')} · priority {v.priority}
                  {Object.keys(v.dependencies).length > 0 &&
                    ` · needs ${Object.entries(v.dependencies)
                      .map(([n, r]) => `${n} ${r}`)
                      .join(', ')}`}
                </p>
                {v.description && <p>{v.description}</p>}
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
  const ref = encodeURIComponent(toolRef);
  const tool = useApi<Tool>(`/tools/${ref}`);
  const set = useApi<ToolPluginSet>(`/tools/${ref}/plugins`);
  const [rows, setRows] = useState<{ name: string; range: string }[] | null>(null);
  const [resolved, setResolved] = useState<ToolPluginSet | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [input, setInput] = useState('{}');
  const [trace, setTrace] = useState<{ output: unknown; trace?: TraceEntry[]; duration_us: number } | null>(null);
  const current = rows ?? set.data?.requested ?? [];
  const chain = resolved ?? set.data;
  const owner = !!user?.developer && tool.data?.developer.id === user.developer.id;

  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      const r = await api.put<ToolPluginSet>(`/tools/${ref}/plugins`, current.filter((x) => x.name));
      setResolved(r);
      setRows(r.requested);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };
  const runTrace = async () => {
    setError(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      setError(new ApiError({ status: 0, detail: 'The input is not valid JSON.' }));
      return;
    }
    try {
      setTrace(await api.post(`/tools/${ref}/execute?trace=1`, { input: parsed }));
    } catch (e) {
      setError(e);
    }
  };
  const conflict = error instanceof ApiError && error.status === 422 ? error.problem.errors ?? [] : [];

  return (
    <section aria-labelledby="tp-h">
      <h1 id="tp-h">Plugins of {tool.data?.name ?? toolRef}</h1>
      <p>
        <Link to={`/tools/${ref}`}>Back to the tool</Link> · <Link to="/plugins">Browse plugins</Link>
      </p>
      <ErrorBox error={error} />
      {conflict.length > 0 && (
        <ul className="error" aria-label="Why the set does not resolve">
          {conflict.map((c) => (
            <li key={c.field + c.message}>
              {c.field}: {c.message}
            </li>
          ))}
        </ul>
      )}
      <Async state={set}>
        {() => (
          <>
            <h2>Requested</h2>
            {current.length === 0 && <p className="muted">No plugins attached.</p>}
            {current.length > 0 && (
              <div className="table-wrap">
                <table className="rows">
                  <caption className="sr-only">Requested plugins</caption>
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
              </div>
            )}
            {owner && (
              <div className="actions">
                <button type="button" onClick={() => setRows([...current, { name: '', range: '*' }])}>
                  Add plugin
                </button>
                <button type="button" onClick={save}>
                  Save plugins
                </button>
                {saved && <span role="status">Saved; the chain below runs from the next execution.</span>}
              </div>
            )}
            <h2>Resolved order</h2>
            {chain && chain.plugins.length > 0 ? (
              <ol aria-label="Resolved order">
                {chain.plugins.map((r) => (
                  <li key={r.name}>
                    {r.name} {r.version} <span className="muted">({r.hooks.join(', ') || 'no hooks'}; priority {r.priority})</span>
                    {r.deprecated && ' · deprecated'}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="muted">Nothing runs around this tool.</p>
            )}
          </>
        )}
      </Async>
      {owner && tool.data?.latest_version && (
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
              <div className="table-wrap">
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
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}
