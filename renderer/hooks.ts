/**
 * Small React hooks over the API: load something, and load it again whenever the back end says the
 * thing it depends on changed.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { onEvent } from './api.ts';
import { toShown } from './errors.ts';
import type { Shown } from './errors.ts';
import type { AppEvent } from '../core/app/contract.ts';

type Topic = Extract<AppEvent, { type: 'changed' }>['what'][number];

export interface Loaded<T> {
  data: T | undefined;
  error: Shown | undefined;
  loading: boolean;
  reload(): void;
}

export function useApi<T>(load: () => Promise<T>, topics: Topic[], deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Shown>();
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    setLoading(true);
    loadRef
      .current()
      .then((d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (mine === seq.current) setError(toShown(e));
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false);
      });
  }, []);
  useEffect(() => {
    reload();
    return onEvent((e) => {
      if (e.type === 'changed' && e.what.some((w) => topics.includes(w))) reload();
    });
  }, deps);
  return { data, error, loading, reload };
}

/** A value kept in localStorage (theme, unit): survives restarts, per browser profile. */
export function useStored<T extends string>(key: string, initial: T): [T, (v: T) => void] {
  const [v, setV] = useState<T>(() => (localStorage.getItem(key) as T | null) ?? initial);
  const set = useCallback(
    (nv: T) => {
      localStorage.setItem(key, nv);
      setV(nv);
      window.dispatchEvent(new StorageEvent('storage', { key }));
    },
    [key],
  );
  useEffect(() => {
    const on = (e: StorageEvent): void => {
      if (e.key === key) setV((localStorage.getItem(key) as T | null) ?? initial);
    };
    window.addEventListener('storage', on);
    return () => window.removeEventListener('storage', on);
  }, [key, initial]);
  return [v, set];
}

/** The time, ticking every `everyMs` (countdowns, "expired" turning true on its own). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
