/** Rate limits by key (a resource name or a domain), shared by every job in the process. */
import type { Rate } from "../util/units.ts";
import { type Clock, monotonicClock } from "../util/time.ts";

/**
 * Spaces out events per key so that no key exceeds its rate. Two events of a key are at least
 * `perMs / count` apart as measured when they are let through, even when a wait ends late (a
 * loaded machine): the next one then waits longer, never less.
 */
export class Pacer {
  /** Earliest slot a new reservation of each key gets; slots are handed out in call order. */
  readonly #next = new Map<string, number>();
  /** When each key last let an event through. */
  readonly #sent = new Map<string, number>();
  /** Until when each key is held back by slowDown(). */
  readonly #held = new Map<string, number>();
  readonly #clock: Clock;

  constructor(clock: Clock = monotonicClock) {
    this.#clock = clock;
  }

  /** Waits for the next slot of `key` at `rate`, and while the key is held back. */
  async wait(key: string, rate: Rate, signal?: AbortSignal): Promise<void> {
    const interval = rate.perMs / rate.count;
    const now = this.#clock.now();
    const slot = Math.max(now, this.#next.get(key) ?? now);
    this.#next.set(key, slot + interval);
    for (;;) {
      const last = this.#sent.get(key);
      const at = Math.max(slot, last === undefined ? slot : last + interval, this.#heldUntil(key));
      const delay = at - this.#clock.now();
      if (delay <= 0) break;
      await this.#clock.sleep(delay, signal);
    }
    this.#sent.set(key, this.#clock.now());
  }

  /** Waits while `key` is held back by slowDown(); for keys without a rate of their own. */
  async waitHeld(key: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const delay = this.#heldUntil(key) - this.#clock.now();
      if (delay <= 0) return;
      await this.#clock.sleep(delay, signal);
    }
  }

  /** Holds `key` back for `ms` (a 429 or Retry-After); a shorter hold never ends a longer one. */
  slowDown(key: string, ms: number): void {
    this.#held.set(key, Math.max(this.#heldUntil(key), this.#clock.now() + ms));
  }

  #heldUntil(key: string): number {
    return this.#held.get(key) ?? -Infinity;
  }
}
