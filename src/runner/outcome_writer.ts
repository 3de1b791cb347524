import type { DoneMark, FailMark, SkipMark, Store } from "../db/store.ts";
/**
 * Records outcomes in batches: one transaction per kind per flush instead of one per item.
 * A crash before a flush loses no outcome for good: the claims stay in_progress, their leases
 * lapse (or their dead process is noticed) and the stages run again.
 */

/** Counts of outcomes this run recorded (not merely queued), per stage. */
export interface StageTally {
  done: number;
  skipped: number;
  retried: number;
  failed: number;
}

/** Options of OutcomeWriter. */
export interface OutcomeWriterOptions {
  db: Store;
  jobId: string;
  runId: string;
  now: () => number;
  /** Called after failures are recorded, with the job's consecutive failure count. */
  onFailures?: (consecutive: number, lastError: string) => Promise<void>;
  /** Longest an outcome waits to be written. Default 25 ms. */
  flushMs?: number;
  /** A flush starts at once when this many outcomes wait. Default 256. */
  maxBatch?: number;
}

/** Buffers a job's outcomes and writes them in batches. */
export class OutcomeWriter {
  readonly tally = new Map<string, StageTally>();
  #done: DoneMark[] = [];
  #skipped: SkipMark[] = [];
  #failed: FailMark[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<() => void>();
  #fatal: unknown;

  constructor(readonly options: OutcomeWriterOptions) {}

  /** Queues a done stage. */
  done(mark: DoneMark): void {
    this.#done.push(mark);
    this.#schedule();
  }

  /** Queues a skipped stage. */
  skipped(mark: SkipMark): void {
    this.#skipped.push(mark);
    this.#schedule();
  }

  /** Queues a failed attempt (retried or failed depending on what is left). */
  failed(mark: FailMark): void {
    this.#failed.push(mark);
    this.#schedule();
  }

  /** True once recording has failed; every later flush rethrows that error. */
  get broken(): boolean {
    return this.#fatal !== undefined;
  }

  /**
   * Calls `listener` after every flush from now on; returns what removes it. A worker subscribes
   * once, not at each wait, so an idle --watch worker holds one listener however long it idles.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Writes everything queued; rethrows a failure to record, which is fatal. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(() => this.#write());
    await this.#flushing;
    if (this.#fatal) throw this.#fatal;
  }

  #schedule(): void {
    const waiting = this.#done.length + this.#skipped.length + this.#failed.length;
    if (waiting >= (this.options.maxBatch ?? 256)) {
      this.flush().catch(() => {});
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush().catch(() => {}), this.options.flushMs ?? 25);
    }
  }

  async #write(): Promise<void> {
    if (this.#fatal) return;
    const { db, jobId, runId, now } = this.options;
    const done = this.#done.splice(0);
    const skipped = this.#skipped.splice(0);
    const failed = this.#failed.splice(0);
    try {
      // Per stage, so that the tally counts what the store recorded: a mark whose claim another
      // run has taken since (its lease was lost) is not recorded, and not counted.
      for (const [stage, marks] of byStage(done)) {
        this.#count(stage, "done", await db.markDone({ jobId, runId, items: marks, now }));
      }
      for (const [stage, marks] of byStage(skipped)) {
        this.#count(stage, "skipped", await db.markSkipped({ jobId, runId, items: marks, now }));
      }
      if (failed.length) await this.#writeFailures(failed);
    } catch (err) {
      this.#fatal = err;
    }
    for (const listener of this.#listeners) listener();
  }

  async #writeFailures(failed: FailMark[]): Promise<void> {
    const { db, jobId, runId, now } = this.options;
    const result = await db.markFailed({ jobId, runId, items: failed, now });
    for (const o of result.outcomes) {
      this.#count(o.stage, o.status === "failed" ? "failed" : "retried");
    }
    await this.options.onFailures?.(result.consecutiveFailures, failed.at(-1)!.error);
  }

  #count(stage: string, field: keyof StageTally, n = 1): void {
    let t = this.tally.get(stage);
    if (!t) this.tally.set(stage, t = { done: 0, skipped: 0, retried: 0, failed: 0 });
    t[field] += n;
  }
}

/** `marks` grouped by stage, in order of first appearance. */
function byStage<T extends { stage: string }>(marks: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const m of marks) {
    const group = groups.get(m.stage);
    if (group) group.push(m);
    else groups.set(m.stage, [m]);
  }
  return groups;
}
