import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, type TempDb, tempDb } from "./_helpers.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

/** Claims `n` rows of `stage` at `at` and marks them done `tookMs` later. */
async function finish(
  t: TempDb,
  options: { stage: string; position: number; n: number; at: number; tookMs: number },
): Promise<void> {
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: options.stage,
    runId: "r",
    limit: options.n,
    leaseMs: 600_000,
    now: () => options.at,
  });
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage: options.stage,
      position: options.position,
      result: {},
      handlerVersion: "1",
    })),
    now: () => options.at + options.tookMs,
  });
}

Deno.test("hourlyRuns() counts finished attempts per stage and hour since the given time", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(10) });
  await finish(t, { stage: "a", position: 0, n: 2, at: START - HOUR, tookMs: 10 });
  await finish(t, { stage: "a", position: 0, n: 3, at: START + 10, tookMs: 10 });
  await finish(t, { stage: "b", position: 1, n: 1, at: START + HOUR + 5, tookMs: 10 });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "a",
    runId: "r",
    limit: 1,
    leaseMs: 600_000,
    now: () => START + 2 * HOUR,
  });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{
      itemId: claims[0].itemId,
      stage: "a",
      error: "boom",
      permanent: false,
      retries: 3,
      backoffMs: 1000,
    }],
    now: () => START + 2 * HOUR + 1,
  });
  assertEquals(await t.db.hourlyRuns({ jobId: "j", sinceTs: START }), [
    { stage: "a", hourStart: START, runs: 3 },
    { stage: "a", hourStart: START + 2 * HOUR, runs: 1 },
    { stage: "b", hourStart: START + HOUR, runs: 1 },
  ]);
  assertEquals(await t.db.hourlyRuns({ jobId: "other", sinceTs: 0 }), []);
});

Deno.test("recentStageTimings() takes p50 and p95 over each stage's latest runs only", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(30) });
  // 10 slow old runs, then 20 runs taking 100, 200, … 2000 ms.
  await finish(t, { stage: "a", position: 0, n: 10, at: clock.now(), tookMs: 60_000 });
  for (let i = 1; i <= 20; i++) {
    await finish(t, { stage: "a", position: 0, n: 1, at: clock.now() + i * HOUR, tookMs: i * 100 });
  }
  assertEquals(await t.db.recentStageTimings({ jobId: "j", runs: 20 }), [
    { stage: "a", count: 20, p50Ms: 1000, p95Ms: 1900 },
    { stage: "b", count: 0, p50Ms: null, p95Ms: null },
  ]);
  const all = await t.db.recentStageTimings({ jobId: "j", runs: 1000 });
  assertEquals(all[0], { stage: "a", count: 30, p50Ms: 1500, p95Ms: 60_000 });
});

Deno.test("costPerDay() sums a job's costs per UTC day within [since, until)", async () => {
  await using t = await tempDb();
  for (
    const [ts, usd] of [[START - 1, 9], [START, 0.25], [START + DAY - 1, 0.5], [START + DAY, 1]]
  ) {
    await t.db.logCost({ jobId: "j", usd, ts });
  }
  await t.db.logCost({ jobId: "other", usd: 7, ts: START + 5 });
  await t.db.logCost({ jobId: "j", usd: 3, ts: START + 2 * DAY });
  assertEquals(await t.db.costPerDay({ jobId: "j", sinceTs: START, untilTs: START + 2 * DAY }), [
    { dayStart: START, usd: 0.75 },
    { dayStart: START + DAY, usd: 1 },
  ]);
});
