/** Named resources: concurrency and rate limits shared by every job in the process. */
import type { ResourceConfig } from "../config/types.ts";
import type { Pacer } from "./pacer.ts";

interface Slot {
  config: ResourceConfig;
  inUse: number;
  waiters: (() => void)[];
}

/** The process-wide registry of named resources (`resources:` in jobs.yaml). */
export class Resources {
  readonly #slots = new Map<string, Slot>();

  constructor(configs: Record<string, ResourceConfig>, readonly pacer: Pacer) {
    for (const [name, config] of Object.entries(configs)) {
      this.#slots.set(name, { config, inUse: 0, waiters: [] });
    }
  }

  /**
   * Takes one unit of each named resource (in name order, so two stages never deadlock), then
   * waits for each one's rate. Returns the function that gives them back.
   */
  async acquire(names: readonly string[], signal?: AbortSignal): Promise<() => void> {
    const taken: Slot[] = [];
    const release = () => taken.splice(0).forEach((slot) => this.#give(slot));
    try {
      for (const name of [...names].sort()) {
        const slot = this.#slots.get(name);
        if (!slot) throw new Error(`Unknown resource "${name}"`);
        await this.#take(slot, signal);
        taken.push(slot);
        if (slot.config.rate) await this.pacer.wait(`resource:${name}`, slot.config.rate, signal);
      }
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  async #take(slot: Slot, signal?: AbortSignal): Promise<void> {
    const limit = slot.config.concurrency ?? Infinity;
    while (slot.inUse >= limit) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          slot.waiters.splice(slot.waiters.indexOf(wake), 1);
          reject(signal!.reason);
        };
        slot.waiters.push(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      if (signal?.aborted) throw signal.reason;
    }
    slot.inUse++;
  }

  #give(slot: Slot): void {
    slot.inUse--;
    slot.waiters.shift()?.();
  }
}
