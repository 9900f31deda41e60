import { Link } from 'react-router-dom';
import { Async, ToolList } from '../components/common';
import { SearchBox } from '../components/SearchBox';
import { useSession } from '../lib/session';
import { useApi } from '../lib/useApi';
import type { Category, Page, ToolSummary } from '../lib/types';

interface SearchAnswer {
  tools: ToolSummary[];
}

export default function Home() {
  const { user } = useSession();
  const trending = useApi<Page<ToolSummary>>('/tools/trending', { per_page: 8 });
  const categories = useApi<{ categories: Category[] }>('/categories');
  const newest = useApi<SearchAnswer>('/search', { sort: 'newest', per_page: 8 });
  const recommended = useApi<{ items: ToolSummary[] }>(user ? '/me/recommendations' : null);

  return (
    <>
      <section className="hero">
        <h1>Find the tool for the job</h1>
        <SearchBox />
      </section>
      {user && (
        <section aria-labelledby="rec-h">
          <h2 id="rec-h">Recommended for you</h2>
          <Async state={recommended}>
            {(d) => <ToolList tools={d.items} empty="Run or buy a tool and we will suggest similar ones." />}
          </Async>
        </section>
      )}
      <section aria-labelledby="trend-h">
        <h2 id="trend-h">Trending</h2>
        <Async state={trending}>{(d) => <ToolList tools={d.items} empty="No activity this week yet." />}</Async>
      </section>
      <section aria-labelledby="cat-h">
        <h2 id="cat-h">Categories</h2>
        <Async state={categories}>
          {(d) => (
            <ul className="chips">
              {d.categories.map((c) => (
                <li key={c.name}>
                  <Link to={`/search?category=${encodeURIComponent(c.name)}`}>
                    {c.label} <span className="count">({c.count})</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </Async>
      </section>
      <section aria-labelledby="new-h">
        <h2 id="new-h">Newest</h2>
        <Async state={newest}>{(d) => <ToolList tools={d.tools} empty="No tools published yet." />}</Async>
      </section>
    </>
  );
}
