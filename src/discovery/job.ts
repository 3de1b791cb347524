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

/** Chains jobs: keys are the upstream keys; an object result is the data, anything else `{ result }`. */
export class JobDiscovery extends BaseDiscovery<JobOptions> {
  /** Upstream items in the order they finished; `since` compares the finish time. */
  async fetchItems(): Promise<RawItem[]> {
    const rows = await this.env.db.getDoneResults({
      jobId: this.options.job,
      stage: this.options.stage,
    });
    return rows.map(({ key, result, finishedAt }) => ({
      key,
      date: finishedAt,
      data: result !== null && typeof result === "object" && !Array.isArray(result)
        ? result as Record<string, unknown>
        : { result },
    }));
  }
}
