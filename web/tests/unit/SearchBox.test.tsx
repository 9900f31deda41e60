import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SearchBox } from '../../src/components/SearchBox';

afterEach(() => vi.unstubAllGlobals());

function Where() {
  const loc = useLocation();
  return <p data-testid="where">{loc.pathname + loc.search}</p>;
}

function setup() {
  const fetchMock = vi.fn(async (url: string) => {
    expect(url).toMatch(/^\/api\/marketplace\/search\/suggest\?q=/);
    return new Response(
      JSON.stringify({
        suggestions: [
          { text: 'CSV cleaner', kind: 'tool', slug: 'csv-cleaner' },
          { text: 'csv', kind: 'tag' },
        ],
      }),
      { status: 200 },
    );
  });
  vi.stubGlobal('fetch', fetchMock);
  render(
    <MemoryRouter initialEntries={['/']}>
      <SearchBox />
      <Routes>
        <Route path="*" element={<Where />} />
      </Routes>
    </MemoryRouter>,
  );
  return fetchMock;
}

describe('SearchBox', () => {
  it('suggests as you type and opens a suggestion chosen with the keyboard', async () => {
    const fetchMock = setup();
    const user = userEvent.setup();
    const box = screen.getByRole('combobox', { name: 'Search tools' });
    await user.type(box, 'cs');
    const options = await screen.findAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['CSV cleaner tool', 'csv tag']);
    expect(box).toHaveAttribute('aria-expanded', 'true');
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(box.getAttribute('aria-activedescendant')).toBe(options[1].id);
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('where')).toHaveTextContent('/search?tags=csv');
    expect(fetchMock).toHaveBeenCalled();
  });

  it('searches for the text when no suggestion is chosen, and asks nothing for one letter', async () => {
    const fetchMock = setup();
    const user = userEvent.setup();
    await user.type(screen.getByRole('combobox', { name: 'Search tools' }), 'c');
    await new Promise((r) => setTimeout(r, 250));
    expect(fetchMock).not.toHaveBeenCalled();
    await user.type(screen.getByRole('combobox', { name: 'Search tools' }), 'sv tools{Enter}');
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent('/search?q=csv%20tools'));
  });
});
