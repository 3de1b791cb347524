import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";
import { listItems, retryFailed, syncStages, upsertItems } from "../../src/db/items.ts";
import { claimBatch, markDone, markFailed, markSkipped } from "../../src/db/claims.ts";
import { reconcileExpiredLeases, releaseClaims } from "../../src/db/leases.ts";
import { getJobStats, stageStats } from "../../src/db/jobs.ts";
import { reprocessStage } from "../../src/db/results.ts";
import type { Db } from "../../src/db/mod.ts";

const JOB = "j";

/** The counts the status functions report must equal what the rows themselves say. */
async function assertCountersMatchRows(db: Db, step: string): Promise<void> {
  const items = await listItems(db, { jobId: JOB, limit: 1000 });
  const fromRows = new Map<string, Record<string, number>>();
  for (const item of items) {
    for (const st of item.stages) {
      const counts = fromRows.get(st.stage) ??
        { pending: 0, in_progress: 0, done: 0, failed: 0, skipped: 0 };
      counts[st.status]++;
      fromRows.set(st.stage, counts);
    }
  }
  const reported = (await stageStats(db, JOB)).map((s) => [s.stage, {
    pending: s.pending,
    in_progress: s.inProgress,
    done: s.done,
    failed: s.failed,
    skipped: s.skipped,
  }]);
  assertEquals(reported, [...fromRows], `stage counts after ${step}`);
  const derived = { total: items.length, pending: 0, in_progress: 0, done: 0, failed: 0 };
  for (const item of items) derived[item.status]++;
  assertEquals((await getJobStats(db, JOB)).items, derived, `item counts after ${step}`);
}

Deno.test("status counters equal the rows through every kind of status change", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  const now = clock.now;
  const stages = ["a", "b", "c"];
  await upsertItems(t.db, { jobId: JOB, stages, items: makeItems(30), now });
  await assertCountersMatchRows(t.db, "upsert");
  const claim = (stage: string, limit: number, runId = "r1") =>
    claimBatch(t.db, { jobId: JOB, stage, runId, limit, leaseMs: 60_000, now });
  const first = await claim("a", 20);
  await assertCountersMatchRows(t.db, "claim");
  const mark = (c: typeof first[number]) => ({
    itemId: c.itemId,
    stage: c.stage,
    position: c.position,
  });
  await markDone(t.db, {
    jobId: JOB,
    runId: "r1",
    items: first.slice(0, 8).map((c) => ({ ...mark(c), result: { ok: 1 }, handlerVersion: "1" })),
    now,
  });
  await markSkipped(t.db, {
    jobId: JOB,
    runId: "r1",
    items: first.slice(8, 10).map((c) => ({ ...mark(c), reason: "no" })),
    now,
  });
  const failure = { error: "boom", retries: 0, backoffMs: 1000 };
  await markFailed(t.db, {
    jobId: JOB,
    runId: "r1",
    items: first.slice(10, 13).map((c) => ({ ...mark(c), ...failure, permanent: true })),
    now,
  });
  await markFailed(t.db, {
    jobId: JOB,
    runId: "r1",
    items: first.slice(13, 15).map((c) => ({
      ...mark(c),
      ...failure,
      retries: 3,
      permanent: false,
    })),
    now,
  });
  await assertCountersMatchRows(t.db, "done, skipped, failed and retried");
  await releaseClaims(t.db, { runId: "r1", items: first.slice(15, 17).map(mark) });
  await assertCountersMatchRows(t.db, "releasing some claims");
  clock.advance(120_000);
  assertEquals((await reconcileExpiredLeases(t.db, { now })).expired, 3);
  await assertCountersMatchRows(t.db, "expired leases");
  const second = await claim("b", 10, "r2");
  await markDone(t.db, {
    jobId: JOB,
    runId: "r2",
    items: second.slice(0, 6).map((c) => ({ ...mark(c), result: 2, handlerVersion: "1" })),
    now,
  });
  await releaseClaims(t.db, { runId: "r2" });
  await assertCountersMatchRows(t.db, "stage b and releasing a whole run");
  assertEquals(await retryFailed(t.db, { jobId: JOB, stage: "a" }), 3);
  await assertCountersMatchRows(t.db, "retryFailed");
  assertEquals(await reprocessStage(t.db, { jobId: JOB, stage: "a", now }), 10);
  await assertCountersMatchRows(t.db, "reprocessStage");
  for (const stage of stages) {
    const claims = await claim(stage, 5, "r3");
    await markDone(t.db, {
      jobId: JOB,
      runId: "r3",
      items: claims.map((c) => ({ ...mark(c), result: 3, handlerVersion: "1" })),
      now,
    });
  }
  assertEquals((await getJobStats(t.db, JOB)).items.done, 5);
  await assertCountersMatchRows(t.db, "items done at every stage");
  assertEquals(await reprocessStage(t.db, { jobId: JOB, stage: "b", now }), 5);
  await assertCountersMatchRows(t.db, "reprocessing done items");
  await syncStages(t.db, { jobId: JOB, stages: ["a", "x", "b", "c"] });
  await assertCountersMatchRows(t.db, "adding a stage");
  await syncStages(t.db, { jobId: JOB, stages: ["a", "c"] });
  await assertCountersMatchRows(t.db, "removing two stages");
});
