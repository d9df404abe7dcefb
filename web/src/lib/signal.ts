/**
 * A tiny observable value. Views subscribe through `useSignal`; it saves a state library for the two global values
 * the console has (the session and the current URL).
 */
import { useEffect, useState } from 'preact/hooks';

/** A value with subscribers. */
export interface Signal<T> {
  value: T;
  subscribe(fn: (value: T) => void): () => void;
}

/** Creates a signal holding `initial`. */
export function signal<T>(initial: T): Signal<T> {
  let current = initial;
  const subscribers = new Set<(value: T) => void>();
  return {
    get value() {
      return current;
    },
    set value(next: T) {
      if (Object.is(next, current)) return;
      current = next;
      for (const fn of [...subscribers]) fn(next);
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
  };
}

/** The signal's value, re-rendering the component when it changes. */
export function useSignal<T>(s: Signal<T>): T {
  const [, setTick] = useState(0);
  useEffect(() => s.subscribe(() => setTick((n) => n + 1)), [s]);
  return s.value;
}
