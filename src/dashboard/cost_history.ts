import type { Store } from "../db/store.ts";
import { DAY_MS } from "../util/time.ts";
/** Cost per UTC day for the cost chart, reading each finished day from the store only once. */

/**
 * Days before today never gain cost events (costs are logged as they are spent), so their
 * totals are kept for the life of the process; only today's total is read on every render.
 */
export class CostHistory {
  readonly #closed = new Map<string, Map<number, number>>();

  /** Cost of `jobId` on each of the `days` UTC days up to today, by day start, oldest first. */
  async perDay(
    db: Store,
    options: { jobId: string; days: number; now: number },
  ): Promise<Map<number, number>> {
    const today = Math.floor(options.now / DAY_MS) * DAY_MS;
    const first = today - (options.days - 1) * DAY_MS;
    const closed = this.#closed.get(options.jobId) ?? new Map<number, number>();
    this.#closed.set(options.jobId, closed);
    let missing = first;
    while (missing < today && closed.has(missing)) missing += DAY_MS;
    if (missing < today) {
      const read = await db.costPerDay({ jobId: options.jobId, sinceTs: missing, untilTs: today });
      for (let day = missing; day < today; day += DAY_MS) closed.set(day, 0);
      for (const r of read) closed.set(r.dayStart, r.usd);
    }
    for (const day of closed.keys()) if (day < first) closed.delete(day);
    const now = await db.costPerDay({
      jobId: options.jobId,
      sinceTs: today,
      untilTs: today + DAY_MS,
    });
    const days = new Map<number, number>();
    for (let day = first; day < today; day += DAY_MS) days.set(day, closed.get(day) ?? 0);
    days.set(today, now[0]?.usd ?? 0);
    return days;
  }
}
