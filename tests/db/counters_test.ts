import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const JOB = "j";

/** The counts the status functions report must equal what the rows themselves say. */
async function assertCountersMatchRows(db: Store, step: string): Promise<void> {
  const items = await db.listItems({ jobId: JOB, limit: 1000 });
  const fromRows = new Map<string, Record<string, number>>();
  for (const item of items) {
    for (const st of item.stages) {
      const counts = fromRows.get(st.stage) ??
        { pending: 0, in_progress: 0, done: 0, failed: 0, skipped: 0 };
      counts[st.status]++;
      fromRows.set(st.stage, counts);
    }
  }
  const reported = (await db.stageStats(JOB)).map((s) => [s.stage, {
    pending: s.pending,
    in_progress: s.inProgress,
    done: s.done,
    failed: s.failed,
    skipped: s.skipped,
  }]);
  assertEquals(reported, [...fromRows], `stage counts after ${step}`);
  const derived = { total: items.length, pending: 0, in_progress: 0, done: 0, failed: 0 };
  for (const item of items) derived[item.status]++;
  assertEquals((await db.getJobStats(JOB)).items, derived, `item counts after ${step}`);
}

Deno.test("status counters equal the rows through every kind of status change", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  const now = clock.now;
  const stages = ["a", "b", "c"];
  await t.db.upsertItems({ jobId: JOB, stages, items: makeItems(30), now });
  await assertCountersMatchRows(t.db, "upsert");
  const claim = (stage: string, limit: number, runId = "r1") =>
    t.db.claimBatch({ jobId: JOB, stage, runId, limit, leaseMs: 60_000, now });
  const first = await claim("a", 20);
  await assertCountersMatchRows(t.db, "claim");
  const mark = (c: typeof first[number]) => ({
    itemId: c.itemId,
    stage: c.stage,
    position: c.position,
  });
  await t.db.markDone({
    jobId: JOB,
    runId: "r1",
    items: first.slice(0, 8).map((c) => ({ ...mark(c), result: { ok: 1 }, handlerVersion: "1" })),
    now,
  });
  await t.db.markSkipped({
    jobId: JOB,
    runId: "r1",
    items: first.slice(8, 10).map((c) => ({ ...mark(c), reason: "no" })),
    now,
  });
  const failure = { error: "boom", retries: 0, backoffMs: 1000 };
  await t.db.markFailed({
    jobId: JOB,
    runId: "r1",
    items: first.slice(10, 13).map((c) => ({ ...mark(c), ...failure, permanent: true })),
    now,
  });
  await t.db.markFailed({
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
  await t.db.releaseClaims({ runId: "r1", items: first.slice(15, 17).map(mark) });
  await assertCountersMatchRows(t.db, "releasing some claims");
  clock.advance(120_000);
  assertEquals((await t.db.reconcileExpiredLeases({ now })).expired, 3);
  await assertCountersMatchRows(t.db, "expired leases");
  const second = await claim("b", 10, "r2");
  await t.db.markDone({
    jobId: JOB,
    runId: "r2",
    items: second.slice(0, 6).map((c) => ({ ...mark(c), result: 2, handlerVersion: "1" })),
    now,
  });
  await t.db.releaseClaims({ runId: "r2" });
  await assertCountersMatchRows(t.db, "stage b and releasing a whole run");
  assertEquals(await t.db.retryFailed({ jobId: JOB, stage: "a" }), 3);
  await assertCountersMatchRows(t.db, "retryFailed");
  assertEquals(await t.db.reprocessStage({ jobId: JOB, stage: "a", now }), 10);
  await assertCountersMatchRows(t.db, "reprocessStage");
  for (const stage of stages) {
    const claims = await claim(stage, 5, "r3");
    await t.db.markDone({
      jobId: JOB,
      runId: "r3",
      items: claims.map((c) => ({ ...mark(c), result: 3, handlerVersion: "1" })),
      now,
    });
  }
  assertEquals((await t.db.getJobStats(JOB)).items.done, 5);
  await assertCountersMatchRows(t.db, "items done at every stage");
  assertEquals(await t.db.reprocessStage({ jobId: JOB, stage: "b", now }), 5);
  await assertCountersMatchRows(t.db, "reprocessing done items");
  await t.db.syncStages({ jobId: JOB, stages: ["a", "x", "b", "c"] });
  await assertCountersMatchRows(t.db, "adding a stage");
  await t.db.syncStages({ jobId: JOB, stages: ["a", "c"] });
  await assertCountersMatchRows(t.db, "removing two stages");
});
