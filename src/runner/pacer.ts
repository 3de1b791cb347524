/** Rate limits by key (a resource name or a domain), shared by every job in the process. */
import type { Rate } from "../util/units.ts";

/** Spaces out events per key so that no key exceeds its rate. */
export class Pacer {
  /** Earliest time the next event of each key may happen. */
  readonly #next = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Reserves the next slot of `key` at `rate` and waits for it. Slots are evenly spaced
   * (`perMs / count` apart), so a burst never exceeds the rate.
   */
  async wait(key: string, rate: Rate, signal?: AbortSignal): Promise<void> {
    const delay = this.reserve(key, rate);
    if (delay > 0) await sleep(delay, signal);
  }

  /** Waits while `key` is held back by slowDown(); for keys without a rate of their own. */
  async waitHeld(key: string, signal?: AbortSignal): Promise<void> {
    const delay = (this.#next.get(key) ?? 0) - this.#now();
    if (delay > 0) await sleep(delay, signal);
  }

  /** Reserves the next slot of `key`; returns how long to wait for it (ms). */
  reserve(key: string, rate: Rate): number {
    const now = this.#now();
    const slot = Math.max(now, this.#next.get(key) ?? 0);
    this.#next.set(key, slot + rate.perMs / rate.count);
    return slot - now;
  }

  /** Holds `key` back for `ms` (a 429 or Retry-After): no slot before then. */
  slowDown(key: string, ms: number): void {
    const until = this.#now() + ms;
    if ((this.#next.get(key) ?? 0) < until) this.#next.set(key, until);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
