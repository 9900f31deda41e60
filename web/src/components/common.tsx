import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { problemText } from '../lib/api';
import { priceLabel } from '../lib/format';
import type { Loaded } from '../lib/useApi';
import type { ToolSummary } from '../lib/types';

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="muted">
      {label}
    </p>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div role="alert" className="error">
      {problemText(error)}
    </div>
  );
}

/** Loading, error, or the children with the data. */
export function Async<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ReactNode }) {
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <Spinner />;
  return <>{children(state.data)}</>;
}

export function Stars({ value, label }: { value: number; label?: string }) {
  const full = Math.round(value);
  return (
    <span className="stars" aria-label={label ?? `${value.toFixed(1)} out of 5 stars`} role="img">
      {'★'.repeat(full)}
      {'☆'.repeat(Math.max(0, 5 - full))}
    </span>
  );
}

export function ToolCard({ tool }: { tool: ToolSummary }) {
  return (
    <li className="card">
      <h3>
        <Link to={`/tools/${encodeURIComponent(tool.slug)}`}>{tool.name}</Link>
      </h3>
      <p>{tool.summary}</p>
      <p className="meta">
        <span>{priceLabel(tool.pricing)}</span>
        <span>
          <Stars value={tool.rating?.average ?? 0} /> ({tool.rating?.count ?? 0})
        </span>
        <span>{tool.downloads} downloads</span>
      </p>
    </li>
  );
}

export function ToolList({ tools, empty }: { tools: ToolSummary[]; empty?: ReactNode }) {
  if (tools.length === 0) return <p className="muted">{empty ?? 'Nothing here yet.'}</p>;
  return (
    <ul className="cards">
      {tools.map((t) => (
        <ToolCard key={t.id} tool={t} />
      ))}
    </ul>
  );
}

/** Previous / next with the position; `onPage` gets the page to show. */
export function Pager({
  page,
  perPage,
  total,
  onPage,
  label = 'Pages',
}: {
  page: number;
  perPage: number;
  total: number;
  onPage: (p: number) => void;
  label?: string;
}) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return null;
  return (
    <nav aria-label={label} className="pager">
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous page
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next page
      </button>
    </nav>
  );
}

export function Field({
  id,
  label,
  error,
  required,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  required?: boolean;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && (
          <span className="req" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </label>
      {children}
      {hint && (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function JsonView({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
