import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const T0 = Date.UTC(2026, 2, 10);

Deno.test("jobMetrics() counts finished attempts by outcome with their durations, across runs", async () => {
  await using t = await tempDb();
  const clock = fakeClock(T0);
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(4), now: clock.now });
  clock.advance(60_000);
  const claim = (runId: string) =>
    t.db.claimBatch({ jobId: "j", stage: "a", runId, limit: 10, leaseMs: 1e6, now: clock.now });
  const [c1, c2, c3, c4] = await claim("r1");
  clock.advance(500);
  await t.db.markDone({
    jobId: "j",
    runId: "r1",
    items: [c1, c2].map((c) => ({ ...c, result: 1, handlerVersion: null })),
    now: clock.now,
  });
  clock.advance(500);
  await t.db.markSkipped({
    jobId: "j",
    runId: "r1",
    items: [{ ...c3, reason: "no" }],
    now: clock.now,
  });
  await t.db.markFailed({
    jobId: "j",
    runId: "r1",
    items: [{
      itemId: c4.itemId,
      stage: "a",
      error: "x",
      permanent: false,
      retries: 1,
      backoffMs: 0,
    }],
    now: clock.now,
  });
  const [again] = await claim("r2");
  clock.advance(2000);
  await t.db.markFailed({
    jobId: "j",
    runId: "r2",
    items: [{
      itemId: again.itemId,
      stage: "a",
      error: "x",
      permanent: true,
      retries: 1,
      backoffMs: 0,
    }],
    now: clock.now,
  });
  await t.db.logCost({ jobId: "j", stage: "a", usd: 0.5, ts: T0 });
  await t.db.logCost({ jobId: "j", usd: 0.25, ts: T0 });
  await t.db.prune({ target: "events", before: T0 + 1, limit: 10 });
  await t.db.logCost({ jobId: "j", stage: "a", usd: 1, ts: T0 + 5 });
  const m = await t.db.jobMetrics({ jobId: "j" });
  assertEquals(m.runs, [
    { stage: "a", outcome: "done", runs: 2, durationMs: 1000 },
    { stage: "a", outcome: "failed", runs: 1, durationMs: 2000 },
    { stage: "a", outcome: "retry", runs: 1, durationMs: 1000 },
    { stage: "a", outcome: "skipped", runs: 1, durationMs: 1000 },
  ]);
  assertEquals(m.costs, [{ stage: null, usd: 0.25 }, { stage: "a", usd: 1.5 }]);
  // Stage b waits for the two items done at a, discovered at T0.
  assertEquals(m.oldestPending, [{ stage: "b", discoveredAt: T0 }]);
});
