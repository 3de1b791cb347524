/** A job's daily budget: stop claiming once today's cost (UTC) reaches `budget.daily_usd`. */
import type { Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { usd } from "../util/format.ts";
import type { Logger } from "../util/log.ts";
import { DAY_MS } from "../util/time.ts";

/** How often the spend of other processes is re-read. */
const REFRESH_MS = 10_000;

/** Tracks today's spend of one job. */
export class Budget {
  #spent = 0;
  #day = -1;
  #checkedAt = -Infinity;
  #announced = false;

  constructor(
    readonly job: JobConfig,
    readonly db: Store,
    readonly log: Logger,
    readonly now: () => number,
  ) {}

  /** Counts a cost just recorded by this process. */
  add(usd: number): void {
    this.#spent += usd;
  }

  /** Whether today's spend has reached the budget; says so once per day. */
  async exceeded(): Promise<boolean> {
    const limit = this.job.budget?.dailyUsd;
    if (limit === undefined) return false;
    const now = this.now();
    const day = Math.floor(now / DAY_MS);
    if (day !== this.#day || now - this.#checkedAt >= REFRESH_MS) {
      if (day !== this.#day) this.#announced = false;
      this.#spent = await this.db.getDailyCost({ jobId: this.job.id, day: now });
      this.#day = day;
      this.#checkedAt = now;
    }
    if (this.#spent < limit) return false;
    if (!this.#announced) {
      this.#announced = true;
      await this.#announce(limit, now);
    }
    return true;
  }

  /** Logs the stop in every run; records the event once per UTC day, whichever run is first. */
  async #announce(limit: number, now: number): Promise<void> {
    const message =
      `Daily budget of ${usd(limit)} reached (${usd(this.#spent)} spent today, UTC); ` +
      `not claiming more work until tomorrow`;
    this.log.warn(message, { job: this.job.id });
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const today = await this.db.getEvents({
      jobId: this.job.id,
      kind: "budget",
      sinceTs: dayStart,
      limit: 1,
    });
    if (today.length === 0) {
      await this.db.logEvent({
        jobId: this.job.id,
        kind: "budget",
        message,
        ts: now,
        alert: "budget",
      });
    }
  }
}
