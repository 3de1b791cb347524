/** Lengths of time in milliseconds, and waiting. */

/** One minute in milliseconds. */
export const MINUTE_MS = 60_000;
/** One hour in milliseconds. */
export const HOUR_MS = 3_600_000;
/** One (UTC) day in milliseconds. */
export const DAY_MS = 86_400_000;

/**
 * Time as pacing and waiting see it: a monotonic instant in ms and a way to wait. Production
 * uses `monotonicClock`; a test passes a clock it moves by hand.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** performance.now() and real timers: unaffected by changes of the system date. */
export const monotonicClock: Clock = { now: () => performance.now(), sleep };
