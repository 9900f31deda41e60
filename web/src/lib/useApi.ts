import { useCallback, useEffect, useState } from 'react';
import { api, type RequestOptions } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GET path (null: nothing to load yet) with loading and error states; reloads when the key changes. */
export function useApi<T>(path: string | null, query?: RequestOptions['query']): Loaded<T> {
  const key = path === null ? null : path + '?' + JSON.stringify(query ?? {});
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    api
      .get<T>(path, query, ctrl.signal)
      .then((data) => setState({ data, loading: false }))
      .catch((error) => {
        if ((error as Error)?.name !== 'AbortError') setState({ error, loading: false });
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
