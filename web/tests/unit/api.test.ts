import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, buildUrl, fieldErrorMap, UNAUTHORIZED_EVENT } from '../../src/lib/api';

function mockFetch(status: number, body: unknown, type = 'application/problem+json') {
  const fn = vi.fn(async () =>
    new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } }),
  );
  vi.stubGlobal('fetch', fn);
  return fn;
}

afterEach(() => vi.unstubAllGlobals());

describe('api client', () => {
  it('turns a problem+json answer into an ApiError with its detail and field errors', async () => {
    mockFetch(422, {
      type: 'urn:marketplace:problem:validation',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'the request has invalid fields',
      errors: [
        { field: 'email', message: 'must be a valid email address' },
        { field: 'password', message: 'must be at least 10 characters' },
        { field: 'email', message: 'second message is not kept' },
      ],
    });
    const err = (await api.post('/auth/register', {}).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.message).toBe('the request has invalid fields');
    expect(err.fieldErrors).toEqual({
      email: 'must be a valid email address',
      password: 'must be at least 10 characters',
    });
  });

  it('uses the status when the error body is not JSON', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })));
    const err = (await api.get('/tools/x').catch((e) => e)) as ApiError;
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/502|Bad Gateway/);
    expect(err.fieldErrors).toEqual({});
  });

  it('reports a network failure as a problem with status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const err = (await api.get('/health').catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/could not be reached/);
  });

  it('sends X-Requested-With on state-changing requests only, cookies same-origin, never Authorization', async () => {
    const fn = mockFetch(200, { ok: true }, 'application/json');
    await api.get('/me');
    await api.post('/reviews', { a: 1 });
    await api.patch('/reviews/1', { a: 1 });
    await api.del('/reviews/1');
    const calls = fn.mock.calls as unknown as [string, RequestInit][];
    const headers = calls.map(([, init]) => init.headers as Record<string, string>);
    expect(headers[0]['X-Requested-With']).toBeUndefined();
    for (const h of headers.slice(1)) expect(h['X-Requested-With']).toBe('marketplace');
    for (const [, init] of calls) {
      expect(init.credentials).toBe('same-origin');
      expect(Object.keys(init.headers as object).map((k) => k.toLowerCase())).not.toContain('authorization');
    }
    expect(calls[1][0]).toBe('/api/marketplace/reviews');
    expect(calls[1][1].body).toBe('{"a":1}');
  });

  it('tells the session about a 401 (and only a 401)', async () => {
    const seen = vi.fn();
    window.addEventListener(UNAUTHORIZED_EVENT, seen);
    mockFetch(403, { status: 403, detail: 'not yours' });
    await api.get('/tools/x').catch(() => undefined);
    expect(seen).not.toHaveBeenCalled();
    mockFetch(401, { status: 401, detail: 'the session has ended' });
    const err = (await api.get('/me').catch((e) => e)) as ApiError;
    expect(err.message).toBe('the session has ended');
    expect(seen).toHaveBeenCalledTimes(1);
    window.removeEventListener(UNAUTHORIZED_EVENT, seen);
  });

  it('answers undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    await expect(api.post('/auth/logout')).resolves.toBeUndefined();
  });

  it('builds query strings without empty parameters', () => {
    expect(buildUrl('/search', { q: 'csv tools', page: 2, category: '', sort: undefined })).toBe(
      '/api/marketplace/search?q=csv+tools&page=2',
    );
  });

  it('ignores malformed error entries', () => {
    expect(fieldErrorMap([{ field: 'a', message: 'x' }, null as never, { message: 'y' } as never])).toEqual({ a: 'x' });
  });
});
