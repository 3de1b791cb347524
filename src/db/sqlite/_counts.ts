/**
 * Bookkeeping of the status counters (stage_counts, done_items): every statement that changes
 * stage statuses records its moves here and applies them once per transaction.
 */
import type { SqliteConn } from "./connection.ts";

/** Moves of stage rows between statuses, summed per (job, stage, status). */
export class CountMoves {
  readonly #deltas = new Map<string, number>();
  readonly #done = new Map<string, number>();

  /** Records `n` rows of (job, stage) moving from status `from` to status `to`. */
  move(jobId: string, stage: string, from: string, to: string, n = 1): void {
    if (from === to || n === 0) return;
    this.#add(jobId, stage, from, -n);
    this.#add(jobId, stage, to, n);
  }

  /** Records `n` items of the job that became done (negative: that stopped being done). */
  itemsDone(jobId: string, n: number): void {
    this.#done.set(jobId, (this.#done.get(jobId) ?? 0) + n);
  }

  /** Writes the summed moves; call inside the transaction that made them. */
  apply(s: SqliteConn): void {
    const update = s.stmt(
      "UPDATE stage_counts SET n = n + ? WHERE job_id = ? AND stage = ? AND status = ?",
    );
    for (const [key, delta] of this.#deltas) {
      if (delta === 0) continue;
      const [jobId, stage, status] = key.split("\0");
      update.run(delta, jobId, stage, status);
    }
    this.#deltas.clear();
    const done = s.stmt(
      `INSERT INTO done_items (job_id, n) VALUES (?, ?)
       ON CONFLICT (job_id) DO UPDATE SET n = n + excluded.n`,
    );
    for (const [jobId, n] of this.#done) if (n !== 0) done.run(jobId, n);
    this.#done.clear();
  }

  #add(jobId: string, stage: string, status: string, n: number): void {
    const key = `${jobId}\0${stage}\0${status}`;
    this.#deltas.set(key, (this.#deltas.get(key) ?? 0) + n);
  }
}
