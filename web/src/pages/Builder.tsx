import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link, useBlocker, useNavigate, useParams } from 'react-router-dom';
import { CodeEditor } from '../components/CodeEditor';
import { Async, ErrorBox, Field, Spinner } from '../components/common';
import { RequireUser } from '../components/RequireUser';
import { api, ApiError } from '../lib/api';
import { PROP_TYPES, rowsOf, withRows, type PropRow } from '../lib/schemaEdit';
import { proposeVersions } from '../lib/version';
import { useApi } from '../lib/useApi';
import type { Category, Tool } from '../lib/types';

interface TestRow {
  name: string;
  input: string;
  expected: string;
}

interface Draft {
  slug: string;
  name: string;
  category: string;
  summary: string;
  description: string;
  tags: string;
  model: 'free' | 'one_time' | 'subscription';
  price: string;
  currency: string;
  period_days: string;
  input_schema: string;
  output_schema: string;
  code: string;
  tests: TestRow[];
}

const STARTER_CODE = 'function handler(input)\n  return input\nend\n';
const pretty = (v: unknown) => JSON.stringify(v ?? {}, null, 2);

function draftOf(t?: Tool): Draft {
  const p = t?.pricing;
  return {
    slug: t?.slug ?? '',
    name: t?.name ?? '',
    category: t?.category ?? '',
    summary: t?.summary ?? '',
    description: t?.description ?? '',
    tags: (t?.tags ?? []).join(', '),
    model: p?.model ?? 'free',
    price: p && p.model !== 'free' ? String((p.price_cents ?? 0) / 100) : '',
    currency: p?.currency ?? 'USD',
    period_days: String(p?.period_days ?? 30),
    input_schema: pretty(t?.input_schema ?? { type: 'object', properties: {} }),
    output_schema: pretty(t?.output_schema ?? {}),
    code: t?.code ?? STARTER_CODE,
    tests: (t?.tests ?? []).map((x) => ({ name: x.name, input: JSON.stringify(x.input), expected: JSON.stringify(x.expected) })),
  };
}

type Body = Record<string, unknown>;

/** The request body; JSON that does not parse is reported against its field before any request. */
function bodyOf(d: Draft, published: boolean): { body: Body; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const json = (field: string, text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      errors[field] = 'must be valid JSON';
      return undefined;
    }
  };
  const pricing: Body = { model: d.model };
  if (d.model !== 'free') {
    pricing.price_cents = Math.round(Number(d.price) * 100);
    pricing.currency = d.currency;
  }
  if (d.model === 'subscription') pricing.period_days = Number(d.period_days);
  const body: Body = {
    name: d.name,
    category: d.category,
    summary: d.summary,
    description: d.description,
    tags: d.tags
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    pricing,
    input_schema: json('input_schema', d.input_schema),
    output_schema: json('output_schema', d.output_schema),
    code: d.code,
    tests: d.tests.map((t, i) => ({
      name: t.name,
      input: json(`tests[${i}].input`, t.input),
      expected: json(`tests[${i}].expected`, t.expected),
    })),
  };
  if (!published) body.slug = d.slug;
  return { body, errors };
}

export default function Builder() {
  return (
    <RequireUser role="developer">
      <BuilderLoader />
    </RequireUser>
  );
}

function BuilderLoader() {
  const { ref } = useParams();
  const tool = useApi<Tool>(ref ? `/tools/${encodeURIComponent(ref)}` : null);
  if (!ref) return <BuilderForm key="new" />;
  return <Async state={tool}>{(t) => <BuilderForm key={t.id} tool={t} />}</Async>;
}

interface TestResult {
  name: string;
  status: string;
  output?: unknown;
  error?: string | null;
  duration_us?: number;
}

function BuilderForm({ tool: initial }: { tool?: Tool }) {
  const [tool, setTool] = useState(initial);
  const [saved, setSaved] = useState(() => draftOf(initial));
  const [d, setD] = useState(saved);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState('');
  const [results, setResults] = useState<{ passed: number; failed: number; not_run: number; results: TestResult[] } | null>(null);
  const [validation, setValidation] = useState<{ valid: boolean; errors: { field: string; message: string }[] } | null>(null);
  const navigate = useNavigate();
  const categories = useApi<{ categories: Category[] }>('/categories');
  const dirty = useMemo(() => JSON.stringify(d) !== JSON.stringify(saved), [d, saved]);
  const published = !!tool?.latest_version;

  // Unsaved changes survive navigation: leaving the page asks first (in-app links and the browser's).
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const fail = (e: unknown) => {
    setProblem(e);
    setErrors(e instanceof ApiError ? e.fieldErrors : {});
  };
  const step = async (name: string, fn: () => Promise<void>) => {
    setBusy(name);
    setProblem(null);
    setNotice(null);
    try {
      await fn();
    } catch (e) {
      fail(e);
    } finally {
      setBusy('');
    }
  };

  const save = async (): Promise<Tool | null> => {
    const { body, errors: local } = bodyOf(d, published);
    if (Object.keys(local).length) {
      setErrors(local);
      setProblem(new ApiError({ status: 422, detail: 'Some fields hold JSON that does not parse.' }));
      return null;
    }
    const t = tool ? await api.patch<Tool>(`/tools/${tool.id}`, body) : await api.post<Tool>('/tools', body);
    setErrors({});
    setTool(t);
    setSaved(d);
    return t;
  };

  // A new draft moves to its own address once saved. In an effect, after the render in which the
  // saved state is clean, so the unsaved-changes blocker lets the move through.
  useEffect(() => {
    if (tool && !initial && !dirty) navigate(`/builder/${tool.slug}`, { replace: true });
  }, [tool, initial, dirty, navigate]);

  const saveFirst = async (): Promise<Tool | null> => (dirty || !tool ? save() : tool);

  return (
    <section className="builder">
      <h1>{tool ? `Edit ${tool.name}` : 'New tool'}</h1>
      {tool && (
        <p>
          Status: {tool.status}
          {tool.latest_version && ` · latest version ${tool.latest_version}`} · <Link to={`/tools/${tool.slug}`}>View tool page</Link>
        </p>
      )}
      {blocker.state === 'blocked' && (
        <div role="alertdialog" aria-labelledby="unsaved-h" className="notice">
          <p id="unsaved-h">You have unsaved changes. Leave this page and lose them?</p>
          <button type="button" onClick={() => blocker.proceed()}>
            Leave without saving
          </button>
          <button type="button" onClick={() => blocker.reset()}>
            Stay on this page
          </button>
        </div>
      )}
      <ErrorBox error={problem} />
      {Object.keys(errors).length > 0 && (
        <ul className="error" aria-label="Problems to fix">
          {Object.entries(errors).map(([f, m]) => (
            <li key={f}>
              {f}: {m}
            </li>
          ))}
        </ul>
      )}
      {notice && <p role="status">{notice}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void step('save', async () => {
            if (await save()) setNotice('Draft saved.');
          });
        }}
        noValidate
      >
        <Section title="Details">
          <Field id="b-name" label="Name" required error={errors.name}>
            <input id="b-name" value={d.name} maxLength={80} onChange={(e) => set('name', e.target.value)} />
          </Field>
          <Field id="b-slug" label="Slug" required error={errors.slug} hint={published ? 'Fixed after the first publish' : 'a-z, 0-9 and -, 3 to 64'}>
            <input id="b-slug" value={d.slug} disabled={published} onChange={(e) => set('slug', e.target.value)} />
          </Field>
          <Field id="b-category" label="Category" required error={errors.category}>
            <select id="b-category" value={d.category} onChange={(e) => set('category', e.target.value)}>
              <option value="">Choose a category</option>
              {(categories.data?.categories ?? []).map((c) => (
                <option key={c.name} value={c.name}>
                  {c.label}
                </option>
              ))}
            </select>
          </Field>
          <Field id="b-summary" label="Summary" error={errors.summary}>
            <input id="b-summary" value={d.summary} maxLength={200} onChange={(e) => set('summary', e.target.value)} />
          </Field>
          <Field id="b-desc" label="Description" error={errors.description}>
            <textarea id="b-desc" rows={5} value={d.description} onChange={(e) => set('description', e.target.value)} />
          </Field>
          <Field id="b-tags" label="Tags (comma-separated)" error={errors.tags}>
            <input id="b-tags" value={d.tags} onChange={(e) => set('tags', e.target.value)} />
          </Field>
        </Section>
        <Section title="Pricing">
          <Field id="b-model" label="Model" error={errors['pricing.model'] ?? errors.pricing}>
            <select id="b-model" value={d.model} onChange={(e) => set('model', e.target.value as Draft['model'])}>
              <option value="free">Free</option>
              <option value="one_time">One-time purchase</option>
              <option value="subscription">Subscription</option>
            </select>
          </Field>
          {d.model !== 'free' && (
            <>
              <Field id="b-price" label="Price" required error={errors['pricing.price_cents']}>
                <input id="b-price" type="number" min="0" step="0.01" value={d.price} onChange={(e) => set('price', e.target.value)} />
              </Field>
              <Field id="b-currency" label="Currency" error={errors['pricing.currency']}>
                <input id="b-currency" value={d.currency} maxLength={3} onChange={(e) => set('currency', e.target.value.toUpperCase())} />
              </Field>
            </>
          )}
          {d.model === 'subscription' && (
            <Field id="b-period" label="Period (days)" error={errors['pricing.period_days']}>
              <input id="b-period" type="number" min="1" value={d.period_days} onChange={(e) => set('period_days', e.target.value)} />
            </Field>
          )}
        </Section>
        <Section title="Input schema">
          <SchemaEditor id="b-in" text={d.input_schema} onChange={(v) => set('input_schema', v)} error={firstUnder(errors, 'input_schema')} />
        </Section>
        <Section title="Output schema">
          <SchemaEditor id="b-out" text={d.output_schema} onChange={(v) => set('output_schema', v)} error={firstUnder(errors, 'output_schema')} />
        </Section>
        <Section title="Code">
          <p className="muted">
            Lua 5.4 defining <code>function handler(input)</code>. Press Escape then Tab to leave the editor.
          </p>
          <CodeEditor value={d.code} onChange={(v) => set('code', v)} label="Tool code (Lua)" />
          {errors.code && (
            <small className="field-error" role="alert">
              {errors.code}
            </small>
          )}
        </Section>
        <Section title="Tests">
          <TestsTable rows={d.tests} onChange={(v) => set('tests', v)} errors={errors} results={results?.results} />
        </Section>
        <div className="actions sticky">
          <button type="submit" disabled={!!busy}>
            {tool ? 'Save draft' : 'Create draft'}
          </button>
          {dirty && <span className="muted">Unsaved changes</span>}
          <button
            type="button"
            disabled={!!busy}
            onClick={() =>
              step('validate', async () => {
                const t = await saveFirst();
                if (!t) return;
                const v = await api.post<{ valid: boolean; errors: { field: string; message: string }[] }>(`/tools/${t.id}/validate`);
                setValidation(v);
                setErrors(Object.fromEntries((v.errors ?? []).map((x) => [x.field, x.message])));
              })
            }
          >
            Validate
          </button>
          <button
            type="button"
            disabled={!!busy}
            onClick={() =>
              step('test', async () => {
                const t = await saveFirst();
                if (t) setResults(await api.post(`/tools/${t.id}/test`));
              })
            }
          >
            Run tests
          </button>
          {busy && <Spinner label={`Working: ${busy}…`} />}
        </div>
      </form>
      {validation && (
        <p role="status" className={validation.valid ? 'ok' : 'error'}>
          {validation.valid ? 'The draft is valid.' : `The draft has ${validation.errors.length} problem(s), listed above.`}
        </p>
      )}
      {results && (
        <p role="status" className={results.failed || results.not_run ? 'error' : 'ok'}>
          Tests: {results.passed} passed, {results.failed} failed, {results.not_run} not run.
        </p>
      )}
      {tool && (
        <PublishForm
          tool={tool}
          busy={!!busy}
          onPublish={(version, changelog) =>
            step('publish', async () => {
              const t = await saveFirst();
              if (!t) return;
              await api.post(`/tools/${t.id}/publish`, { version, changelog });
              const fresh = await api.get<Tool>(`/tools/${t.id}`);
              setTool(fresh);
              setNotice(`Published version ${version}.`);
            })
          }
          error={errors.version}
        />
      )}
    </section>
  );
}

function firstUnder(errors: Record<string, string>, prefix: string): string | undefined {
  const k = Object.keys(errors).find((f) => f === prefix || f.startsWith(prefix + '.') || f.startsWith(prefix + '['));
  return k ? (k === prefix ? errors[k] : `${k}: ${errors[k]}`) : undefined;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="section">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

function SchemaEditor({ id, text, onChange, error }: { id: string; text: string; onChange: (v: string) => void; error?: string }) {
  const rows = rowsOf(text);
  const update = (next: PropRow[]) => onChange(withRows(text, next));
  return (
    <>
      {rows ? (
        <div className="table-wrap">
        <table className="rows">
          <caption className="sr-only">Fields</caption>
          <thead>
            <tr>
              <th scope="col">Field name</th>
              <th scope="col">Type</th>
              <th scope="col">Required</th>
              <th scope="col">Remove</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>
                  <input
                    aria-label={`Field ${i + 1} name`}
                    value={r.name}
                    onChange={(e) => update(rows.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
                  />
                </td>
                <td>
                  <select aria-label={`Field ${i + 1} type`} value={r.type} onChange={(e) => update(rows.map((x, j) => (j === i ? { ...x, type: e.target.value } : x)))}>
                    {PROP_TYPES.map((t) => (
                      <option key={t}>{t}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Field ${i + 1} required`}
                    checked={r.required}
                    onChange={(e) => update(rows.map((x, j) => (j === i ? { ...x, required: e.target.checked } : x)))}
                  />
                </td>
                <td>
                  <button type="button" aria-label={`Remove field ${r.name || i + 1}`} onClick={() => update(rows.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      ) : (
        <p className="muted">This schema is edited as JSON only.</p>
      )}
      {rows && (
        <button type="button" onClick={() => update([...rows, { name: `field${rows.length + 1}`, type: 'string', required: false }])}>
          Add field
        </button>
      )}
      <Field id={id} label="Schema (JSON)" error={error}>
        <textarea id={id} className="code" rows={8} value={text} onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      </Field>
    </>
  );
}

function TestsTable({
  rows,
  onChange,
  errors,
  results,
}: {
  rows: TestRow[];
  onChange: (r: TestRow[]) => void;
  errors: Record<string, string>;
  results?: TestResult[];
}) {
  const edit = (i: number, k: keyof TestRow, v: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  return (
    <>
      <div className="table-wrap">
        <table className="rows">
          <caption className="sr-only">Tests</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Input (JSON)</th>
              <th scope="col">Expected (JSON)</th>
              <th scope="col">Result</th>
              <th scope="col">Remove</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const res = results?.find((x) => x.name === r.name);
              const err = firstUnder(errors, `tests[${i}]`);
              return (
                <tr key={i}>
                  <td>
                    <input aria-label={`Test ${i + 1} name`} value={r.name} onChange={(e) => edit(i, 'name', e.target.value)} />
                  </td>
                  <td>
                    <textarea aria-label={`Test ${i + 1} input`} className="code" rows={2} value={r.input} onChange={(e) => edit(i, 'input', e.target.value)} />
                  </td>
                  <td>
                    <textarea
                      aria-label={`Test ${i + 1} expected output`}
                      className="code"
                      rows={2}
                      value={r.expected}
                      onChange={(e) => edit(i, 'expected', e.target.value)}
                    />
                  </td>
                  <td>
                    {res && (
                      <span className={res.status === 'passed' ? 'ok' : 'error'}>
                        {res.status}
                        {res.error ? `: ${res.error}` : ''}
                        {res.status === 'failed' && res.output !== undefined ? ` (got ${JSON.stringify(res.output)})` : ''}
                      </span>
                    )}
                    {err && <small className="field-error">{err}</small>}
                  </td>
                  <td>
                    <button type="button" aria-label={`Remove test ${r.name || i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <button type="button" onClick={() => onChange([...rows, { name: `test ${rows.length + 1}`, input: '{}', expected: '{}' }])}>
        Add test
      </button>
    </>
  );
}

function PublishForm({
  tool,
  busy,
  onPublish,
  error,
}: {
  tool: Tool;
  busy: boolean;
  onPublish: (version: string, changelog: string) => void;
  error?: string;
}) {
  const proposals = proposeVersions(tool.latest_version);
  const [version, setVersion] = useState(proposals.patch);
  const [changelog, setChangelog] = useState('');
  useEffect(() => setVersion(proposeVersions(tool.latest_version).patch), [tool.latest_version]);
  return (
    <form
      className="panel"
      aria-labelledby="pub-h"
      onSubmit={(e) => {
        e.preventDefault();
        onPublish(version, changelog);
      }}
    >
      <h2 id="pub-h">Publish</h2>
      <p className="muted">Saves the draft, then publishes it if it validates and every test passes.</p>
      <div className="actions">
        {(['patch', 'minor', 'major'] as const).map((k) => (
          <button type="button" key={k} onClick={() => setVersion(proposals[k])}>
            Next {k}: {proposals[k]}
          </button>
        ))}
      </div>
      <Field id="pub-version" label="Version" required error={error}>
        <input id="pub-version" value={version} onChange={(e) => setVersion(e.target.value)} />
      </Field>
      <Field id="pub-changelog" label="Changelog">
        <textarea id="pub-changelog" rows={3} value={changelog} onChange={(e) => setChangelog(e.target.value)} />
      </Field>
      <button type="submit" disabled={busy}>
        Publish
      </button>
    </form>
  );
}
