/**
 * The abort signals of one stage's running handlers: aborted at the stage's timeout or when the
 * shutdown grace period is over. One timer and one shutdown listener serve every claim, instead
 * of a timer and a listener per claim (about 2 KB of garbage each at thousands of claims/s), and
 * a claim's AbortController is made only when its handler reads the signal.
 */

/** One running handler's abort state. */
export interface ClaimAbort {
  /** The handler's ctx.signal. */
  readonly signal: AbortSignal;
  /** True when the stage's timeout aborted it. */
  timedOut: boolean;
}

class Entry implements ClaimAbort {
  timedOut = false;
  /** Rejects the race between the handler and its abort. */
  reject: (reason: unknown) => void = () => {};
  #controller: AbortController | undefined;
  /** Why it was aborted, once it was: a signal read later starts aborted. */
  #aborted: { reason: unknown } | undefined;

  constructor(readonly deadline: number) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#aborted.reason);
    }
    return this.#controller.signal;
  }

  get aborted(): { reason: unknown } | undefined {
    return this.#aborted;
  }

  /** Aborts the signal, made or not yet, and ends the race with `reason`. */
  abort(reason: unknown): void {
    this.#aborted ??= { reason };
    this.#controller?.abort(reason);
    this.reject(reason);
  }
}

/** The running claims of one stage. */
export class ClaimAborts {
  /** In start order; with one timeout per stage, also in deadline order. */
  readonly #running = new Set<Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  constructor(readonly timeoutMs: number, readonly hard: AbortSignal) {
    hard.addEventListener("abort", this.#onHard, { once: true });
  }

  /**
   * Runs `start(signal)` and resolves with its result, or rejects as soon as the claim's
   * signal aborts (a handler that ignores its signal is left behind).
   */
  async run<T>(start: (abort: ClaimAbort) => Promise<T>): Promise<T> {
    const entry = new Entry(performance.now() + this.timeoutMs);
    if (this.hard.aborted) entry.abort(this.hard.reason);
    this.#running.add(entry);
    this.#arm(entry.deadline);
    try {
      return await new Promise<T>((resolve, reject) => {
        entry.reject = reject;
        const aborted = entry.aborted;
        if (aborted) reject(aborted.reason);
        else start(entry).then(resolve, reject);
      });
    } finally {
      this.#running.delete(entry);
    }
  }

  /**
   * Ends the claim of `abort` with `error`, as if its handler had thrown it, and aborts its
   * signal. False when the claim had already ended.
   */
  fail(abort: ClaimAbort, error: unknown): boolean {
    const entry = abort as Entry;
    if (!this.#running.has(entry)) return false;
    this.#abort(entry, error);
    return true;
  }

  /** Stops the timer and the shutdown listener. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.hard.removeEventListener("abort", this.#onHard);
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerAt <= deadline) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - performance.now()));
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    for (const entry of this.#running) {
      if (entry.deadline > now) return this.#arm(entry.deadline);
      entry.timedOut = true;
      this.#abort(entry, new Error("Timed out"));
    }
  };

  #onHard = (): void => {
    for (const entry of this.#running) this.#abort(entry, this.hard.reason);
  };

  #abort(entry: Entry, reason: unknown): void {
    this.#running.delete(entry);
    entry.abort(reason);
  }
}
