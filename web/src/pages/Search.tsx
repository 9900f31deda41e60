import { Link, useSearchParams } from 'react-router-dom';
import { ErrorBox, Pager, Spinner, ToolList } from '../components/common';
import { SearchBox } from '../components/SearchBox';
import { useApi } from '../lib/useApi';
import type { Category, ToolSummary } from '../lib/types';

interface SearchResult {
  tools: ToolSummary[];
  total: number;
  page: number;
  per_page: number;
  facets: {
    categories: Record<string, number>;
    pricing: Record<string, number>;
    rating: Record<string, number>;
  };
  suggestions: string[];
  corrected_to?: string;
}

const SORTS: [string, string][] = [
  ['relevance', 'Relevance'],
  ['rating', 'Rating'],
  ['downloads', 'Downloads'],
  ['newest', 'Newest'],
  ['trending', 'Trending'],
  ['price_asc', 'Price: low to high'],
  ['price_desc', 'Price: high to low'],
];
const PRICING: [string, string][] = [
  ['free', 'Free'],
  ['one_time', 'One-time purchase'],
  ['subscription', 'Subscription'],
];
const KEYS = ['q', 'category', 'tags', 'pricing', 'min_rating', 'max_price_cents', 'sort', 'page'];

export default function SearchPage() {
  // The URL is the state: every filter, the sort and the page live in it (shareable, back works).
  const [params, setParams] = useSearchParams();
  const query: Record<string, string> = {};
  for (const k of KEYS) {
    const v = params.get(k);
    if (v) query[k] = v;
  }
  const result = useApi<SearchResult>('/search', { ...query, per_page: 20 });
  const categories = useApi<{ categories: Category[] }>('/categories');
  const labelOf = (name: string) => categories.data?.categories.find((c) => c.name === name)?.label ?? name;

  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next);
  };

  const r = result.data;
  return (
    <div className="search-layout">
      <section className="search-main" aria-labelledby="search-h">
        <h1 id="search-h">{query.q ? `Results for “${query.q}”` : 'Browse tools'}</h1>
        <SearchBox initial={query.q ?? ''} onSearch={(q) => set({ q })} />
        <div className="toolbar">
          <label htmlFor="sort">Sort by</label>
          <select id="sort" value={query.sort ?? 'relevance'} onChange={(e) => set({ sort: e.target.value })}>
            {SORTS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
          {r && <span role="status">{r.total} tools</span>}
        </div>
        {result.error ? <ErrorBox error={result.error} /> : null}
        {!r && !result.error && <Spinner />}
        {r && (
          <>
            {r.corrected_to && (
              <p className="notice">
                No tools matched “{query.q}”. Showing results for “{r.corrected_to}”.
              </p>
            )}
            {r.tools.length === 0 ? (
              <EmptyState query={query} suggestions={r.suggestions} onPick={(q) => set({ q })} clear={() => setParams({})} />
            ) : (
              <ToolList tools={r.tools} />
            )}
            <Pager page={r.page} perPage={r.per_page} total={r.total} onPage={(p) => set({ page: String(p) })} />
          </>
        )}
      </section>
      <aside className="filters" aria-labelledby="filters-h">
        <h2 id="filters-h">Filters</h2>
        <div className="field">
          <label htmlFor="f-category">Category</label>
          <select id="f-category" value={query.category ?? ''} onChange={(e) => set({ category: e.target.value })}>
            <option value="">Any category</option>
            {(categories.data?.categories ?? []).map((c) => (
              <option key={c.name} value={c.name}>
                {c.label}
                {r?.facets.categories[c.name] !== undefined ? ` (${r.facets.categories[c.name]})` : ''}
              </option>
            ))}
          </select>
        </div>
        <fieldset>
          <legend>Pricing</legend>
          <label>
            <input type="radio" name="pricing" checked={!query.pricing} onChange={() => set({ pricing: null })} /> Any
          </label>
          {PRICING.map(([v, l]) => (
            <label key={v}>
              <input type="radio" name="pricing" checked={query.pricing === v} onChange={() => set({ pricing: v })} />{' '}
              {l} {r ? `(${r.facets.pricing[v] ?? 0})` : ''}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Rating</legend>
          <label>
            <input type="radio" name="rating" checked={!query.min_rating} onChange={() => set({ min_rating: null })} /> Any
          </label>
          {['4', '3', '2'].map((n) => (
            <label key={n}>
              <input type="radio" name="rating" checked={query.min_rating === n} onChange={() => set({ min_rating: n })} />{' '}
              {n}+ stars {r ? `(${r.facets.rating[`${n}+`] ?? 0})` : ''}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="f-maxprice">Maximum price (cents)</label>
          <input
            id="f-maxprice"
            type="number"
            min={0}
            inputMode="numeric"
            defaultValue={query.max_price_cents ?? ''}
            onBlur={(e) => set({ max_price_cents: e.target.value })}
          />
        </div>
        {query.tags && (
          <p>
            Tags: {query.tags}{' '}
            <button type="button" onClick={() => set({ tags: null })}>
              Clear tags
            </button>
          </p>
        )}
        {r && Object.keys(r.facets.categories).length > 0 && (
          <>
            <h3>Matches by category</h3>
            <ul className="facets">
              {Object.entries(r.facets.categories).map(([name, n]) => (
                <li key={name}>
                  <button type="button" className="link" onClick={() => set({ category: name })}>
                    {labelOf(name)} ({n})
                  </button>
                </li>
              ))}
            </ul>
          </>
        )}
      </aside>
    </div>
  );
}

function EmptyState({
  query,
  suggestions,
  onPick,
  clear,
}: {
  query: Record<string, string>;
  suggestions: string[];
  onPick: (q: string) => void;
  clear: () => void;
}) {
  const filtered = Object.keys(query).some((k) => k !== 'q' && k !== 'sort' && k !== 'page');
  return (
    <div className="empty">
      <h2>No tools found</h2>
      {suggestions.length > 0 && (
        <p>
          Did you mean{' '}
          {suggestions.map((s, i) => (
            <span key={s}>
              {i > 0 && ', '}
              <button type="button" className="link" onClick={() => onPick(s)}>
                {s}
              </button>
            </span>
          ))}
          ?
        </p>
      )}
      <ul>
        <li>Check the spelling, or use fewer or more general words.</li>
        {filtered && (
          <li>
            <button type="button" className="link" onClick={clear}>
              Remove all filters
            </button>
          </li>
        )}
        <li>
          <Link to="/">See the trending tools and categories</Link>
        </li>
      </ul>
    </div>
  );
}
