import { useEffect, useId, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../lib/api';

interface Suggestion {
  text: string;
  kind: 'tool' | 'tag';
  slug?: string;
}

/** The search box with suggestions as you type (GET /search/suggest), a combobox a keyboard can drive. */
export function SearchBox({ initial = '', onSearch }: { initial?: string; onSearch?: (q: string) => void }) {
  const [q, setQ] = useState(initial);
  const [items, setItems] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const listId = useId();

  useEffect(() => setQ(initial), [initial]);

  useEffect(() => {
    if (q.trim().length < 2) {
      setItems([]);
      return;
    }
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      api
        .get<{ suggestions: Suggestion[] }>('/search/suggest', { q }, ctrl.signal)
        .then((r) => {
          setItems(r.suggestions);
          setActive(-1);
        })
        .catch(() => setItems([]));
    }, 150);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [q]);

  const submit = (text: string) => {
    setOpen(false);
    if (onSearch) onSearch(text);
    else navigate(`/search?q=${encodeURIComponent(text)}`);
  };
  const choose = (s: Suggestion) => {
    setOpen(false);
    if (s.kind === 'tool' && s.slug) navigate(`/tools/${encodeURIComponent(s.slug)}`);
    else navigate(`/search?tags=${encodeURIComponent(s.text)}`);
  };
  const shown = open && items.length > 0;

  return (
    <form
      role="search"
      className="searchbox"
      onSubmit={(e) => {
        e.preventDefault();
        if (shown && active >= 0) choose(items[active]);
        else submit(q);
      }}
    >
      <label htmlFor={`${listId}-q`} className="sr-only">
        Search tools
      </label>
      <input
        id={`${listId}-q`}
        type="search"
        role="combobox"
        aria-expanded={shown}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={shown && active >= 0 ? `${listId}-${active}` : undefined}
        placeholder="Search tools"
        value={q}
        maxLength={200}
        autoComplete="off"
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (!shown) return;
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(items.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(-1, a - 1));
          } else if (e.key === 'Escape') setOpen(false);
        }}
      />
      <button type="submit">Search</button>
      {shown && (
        <ul id={listId} role="listbox" aria-label="Suggestions" className="suggest">
          {items.map((s, i) => (
            <li
              key={`${s.kind}-${s.text}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                choose(s);
              }}
            >
              {s.text} <span className="muted">{s.kind === 'tag' ? 'tag' : 'tool'}</span>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
