import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiKeyBody, toolsError } from '../../src/lib/apiKeys';
import { ApiKeysPanel } from '../../src/pages/ApiKeys';

afterEach(() => vi.unstubAllGlobals());

const KEY = 'mk_' + 'A'.repeat(43);
const listed = {
  id: '5', name: 'ci', prefix: 'mk_AAAAAAAA', tools: [], created_at: '2026-12-01T07:00:00Z', last_used_at: null,
  expires_at: null, expired: false, requests_today: 0, requests_30d: 0,
};

function json(body: unknown, status = 200) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status });
}

describe('apiKeyBody', () => {
  it('sends tools and the expiry only when given', () => {
    expect(apiKeyBody(' ci ', '', '')).toEqual({ name: 'ci' });
    expect(apiKeyBody('ci', '12, 7 9', '2027-01-31')).toEqual({ name: 'ci', tools: ['12', '7', '9'], expires_at: '2027-01-31T00:00:00Z' });
  });
  it('puts a tool error on the one tools field', () => {
    expect(toolsError({ 'tools[1]': 'no such tool' })).toBe('tools[1]: no such tool');
    expect(toolsError({ name: 'x' })).toBeUndefined();
  });
});

describe('ApiKeysPanel', () => {
  it('creates a key, shows it once with a copy button, lists it without the key, revokes it', async () => {
    let keys: unknown[] = [];
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      if (method === 'POST') {
        keys = [listed];
        return json({ ...listed, key: KEY }, 201);
      }
      if (method === 'DELETE') {
        keys = [];
        return json(undefined, 204);
      }
      return json({ items: keys });
    });
    vi.stubGlobal('fetch', fetchMock);
    const writeText = vi.fn(async () => undefined);
    const user = userEvent.setup();
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(<ApiKeysPanel />);
    await screen.findByText('No API keys yet.');

    await user.type(screen.getByLabelText(/^Key name/), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByLabelText('New API key')).toHaveTextContent(KEY);
    const [url, init] = fetchMock.mock.calls.find((c) => (c[1] as RequestInit | undefined)?.method === 'POST') as [string, RequestInit];
    expect(url).toBe('/api/marketplace/me/api-keys');
    expect(JSON.parse(String(init.body))).toEqual({ name: 'ci' });

    await user.click(screen.getByRole('button', { name: 'Copy key' }));
    expect(writeText).toHaveBeenCalledWith(KEY);
    await screen.findByText('Copied.');

    // the list shows the prefix, never the key; once dismissed the key is gone from the page
    const row = await screen.findByRole('row', { name: /ci/ });
    expect(within(row).getByText('mk_AAAAAAAA…')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByText(KEY)).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Revoke ci' }));
    await screen.findByText('No API keys yet.');
    expect(fetchMock.mock.calls.some((c) => c[0] === '/api/marketplace/me/api-keys/5' && (c[1] as RequestInit).method === 'DELETE')).toBe(true);
  });

  it('shows the API errors next to their fields', async () => {
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) =>
      (init?.method ?? 'GET') === 'POST'
        ? new Response(
            JSON.stringify({ status: 422, title: 'Unprocessable Content', detail: 'invalid fields', errors: [{ field: 'tools[0]', message: 'no such tool' }] }),
            { status: 422, headers: { 'Content-Type': 'application/problem+json' } },
          )
        : json({ items: [] }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const user = userEvent.setup();
    render(<ApiKeysPanel />);
    await screen.findByText('No API keys yet.');
    await user.type(screen.getByLabelText(/^Key name/), 'ci');
    await user.type(screen.getByLabelText(/^Tool ids/), '999');
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await waitFor(() => expect(screen.getByText('tools[0]: no such tool')).toBeInTheDocument());
    expect(screen.queryByLabelText('New API key')).not.toBeInTheDocument();
  });
});
