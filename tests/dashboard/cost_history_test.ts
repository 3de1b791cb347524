import { deepStrictEqual as assertEquals } from "node:assert/strict";

import { CostHistory } from "../../src/dashboard/cost_history.ts";
import { tempDb } from "../db/_helpers.ts";

const DAY = 86_400_000;
const TODAY = Date.UTC(2026, 0, 10);
const NOW = TODAY + 5 * 3_600_000;

Deno.test("CostHistory gives every day up to today, reading finished days only once", async () => {
  await using t = await tempDb();
  await t.db.logCost({ jobId: "j", usd: 2, ts: TODAY - 2 * DAY + 1 });
  await t.db.logCost({ jobId: "j", usd: 0.5, ts: TODAY + 1 });
  await t.db.logCost({ jobId: "j", usd: 4, ts: TODAY - 5 * DAY });
  const history = new CostHistory();
  const days = (map: Map<number, number>) =>
    [...map].map(([day, usd]) => [(day - TODAY) / DAY, usd]);
  assertEquals(days(await history.perDay(t.db, { jobId: "j", days: 3, now: NOW })), [
    [-2, 2],
    [-1, 0],
    [0, 0.5],
  ]);
  // A cost of a finished day is not read again; today's is.
  await t.db.logCost({ jobId: "j", usd: 1, ts: TODAY - DAY + 1 });
  await t.db.logCost({ jobId: "j", usd: 0.25, ts: TODAY + 2 });
  assertEquals(days(await history.perDay(t.db, { jobId: "j", days: 3, now: NOW })), [
    [-2, 2],
    [-1, 0],
    [0, 0.75],
  ]);
  // A longer window reads again from its first day not yet read.
  assertEquals(days(await history.perDay(t.db, { jobId: "j", days: 6, now: NOW })), [
    [-5, 4],
    [-4, 0],
    [-3, 0],
    [-2, 2],
    [-1, 1],
    [0, 0.75],
  ]);
  // The next day, yesterday's total is read once, in full.
  assertEquals(days(await history.perDay(t.db, { jobId: "j", days: 2, now: NOW + DAY })), [
    [0, 0.75],
    [1, 0],
  ]);
});
