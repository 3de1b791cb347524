/** job: items of another job that reached done at a stage, with that stage's result as data. */
import { z } from "zod";

import { BaseDiscovery, itemOptions, type RawItem } from "./base.ts";

/** Options of the job strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  /** The upstream job's id. */
  job: z.string().min(1),
  /** The upstream stage whose done items (and results) become this job's items. */
  stage: z.string().min(1),
});

/** Parsed options of the job strategy. */
export type JobOptions = z.infer<typeof schema>;

/**
 * How far before the newest finish its last discovery read a discovery reads again: a stage
 * recorded as finished earlier than that (by a machine whose clock is behind, or by a commit
 * that waited for the database) is not missed.
 */
export const OVERLAP_MS = 5 * 60_000;

/** Chains jobs: keys are the upstream keys; an object result is the data, anything else `{ result }`. */
export class JobDiscovery extends BaseDiscovery<JobOptions> {
  /**
   * Upstream items in the order they finished; `since` compares the finish time. After the
   * first discovery only what finished since the last one is read (with OVERLAP_MS of margin),
   * unless `limit` is set: then the first items are read each time, as in other strategies.
   */
  async fetchItems(): Promise<RawItem[]> {
    const { job, stage, limit } = this.options;
    const source = `job:${job}/${stage}`;
    const mark = limit === undefined ? Number(await this.readMark(source)) : NaN;
    const newest = Number.isFinite(mark) ? mark : undefined;
    const rows = await this.env.db.getDoneResults({
      jobId: job,
      stage,
      finishedSince: newest === undefined ? undefined : newest - OVERLAP_MS,
    });
    // Kept again when nothing is new, so that retention of unused marks leaves it.
    const reached = rows.at(-1)?.finishedAt ?? newest;
    if (limit === undefined && reached !== undefined) this.keepMark(source, String(reached));
    return rows.map(({ key, result, finishedAt }) => ({
      key,
      date: finishedAt,
      data: result !== null && typeof result === "object" && !Array.isArray(result)
        ? result as Record<string, unknown>
        : { result },
    }));
  }
}
