// The one HTTP client of the app. The session is an HttpOnly cookie the browser sends by itself: no
// token is ever read, stored or passed around here. Every state-changing request carries
// X-Requested-With, which the server requires of cookie-authenticated writes (a cross-site form
// cannot set it).

export const API_BASE = '/api/marketplace';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  request_id?: string;
  /** quota-exceeded: when the next period starts */
  period_end?: string;
}

/** A failed request: the problem document (or one made up for a network failure). */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  /** field -> message; a field named twice keeps its first message. */
  get fieldErrors(): Record<string, string> {
    return fieldErrorMap(this.problem.errors);
  }
}

export function fieldErrorMap(errors: FieldError[] | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of errors ?? []) {
    if (e && typeof e.field === 'string' && !(e.field in map)) map[e.field] = String(e.message ?? '');
  }
  return map;
}

/** The text to show for a failure: the problem's detail, else its title. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong';
}

const SAFE = new Set(['GET', 'HEAD']);

/** Fired on window for every 401: the session ended (expired, revoked, signed out elsewhere), so
 * the session state forgets the user instead of showing screens that no longer work. */
export const UNAUTHORIZED_EVENT = 'marketplace:unauthorized';

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return API_BASE + path + (qs ? `?${qs}` : '');
}

async function readProblem(res: Response): Promise<Problem> {
  let doc: Partial<Problem> = {};
  try {
    const parsed = await res.json();
    if (parsed && typeof parsed === 'object') doc = parsed as Partial<Problem>;
  } catch {
    /* not JSON (a proxy's page): the status alone tells */
  }
  return {
    ...doc,
    status: res.status,
    title: doc.title ?? res.statusText,
    detail: doc.detail ?? doc.title ?? `The request failed (HTTP ${res.status})`,
    errors: Array.isArray(doc.errors) ? doc.errors : undefined,
  };
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = (opts.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (!SAFE.has(method)) headers['X-Requested-With'] = 'marketplace';
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError({ status: 0, title: 'Network error', detail: 'The server could not be reached.' });
  }
  if (!res.ok) {
    if (res.status === 401 && typeof window !== 'undefined') window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    throw new ApiError(await readProblem(res));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) =>
    request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>(path, { method: 'POST', body, headers }),
  put: <T>(path: string, body?: unknown) => request<T>(path, { method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown) => request<T>(path, { method: 'PATCH', body }),
  del: <T>(path: string) => request<T>(path, { method: 'DELETE' }),
};
