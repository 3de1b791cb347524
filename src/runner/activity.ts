/** What a run's stage workers are doing now, for the live display of `jobctl run`. */

/**
 * Handlers running now and the time each stage's worker ended, per job and stage. Claimed rows
 * waiting for a free handler are not running: at most `concurrency` handlers of a stage are.
 */
export class RunActivity {
  readonly #running = new Map<string, number>();
  readonly #endedAt = new Map<string, number>();

  /** Counts a handler of `stage` as running; call the returned function once it has returned. */
  handlerStarted(jobId: string, stage: string): () => void {
    const key = keyOf(jobId, stage);
    this.#running.set(key, (this.#running.get(key) ?? 0) + 1);
    return () => this.#running.set(key, this.#running.get(key)! - 1);
  }

  /** Records that the worker of `stage` has finished at `at` (ms): it claims nothing more. */
  workerEnded(jobId: string, stage: string, at: number): void {
    this.#endedAt.set(keyOf(jobId, stage), at);
  }

  /** Handlers of `stage` running now. */
  running(jobId: string, stage: string): number {
    return this.#running.get(keyOf(jobId, stage)) ?? 0;
  }

  /** When the worker of `stage` finished, or undefined while it works (or never started). */
  endedAt(jobId: string, stage: string): number | undefined {
    return this.#endedAt.get(keyOf(jobId, stage));
  }
}

function keyOf(jobId: string, stage: string): string {
  return `${jobId}\u0000${stage}`;
}
