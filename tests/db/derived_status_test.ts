import type { DerivedStatus, StageStatus, Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, tempDb } from "./_helpers.ts";

const STAGES = ["a", "b", "c"];
const STATUSES: StageStatus[] = ["pending", "in_progress", "done", "failed", "skipped"];

/** Every combination of stage statuses of a 3-stage item, keyed "pending/done/failed" etc. */
const COMBINATIONS: StageStatus[][] = STATUSES.flatMap((a) =>
  STATUSES.flatMap((b) => STATUSES.map((c) => [a, b, c]))
);

/** The rule of DESIGN, written out independently of the view. */
function expectedStatus(stages: StageStatus[]): DerivedStatus {
  if (stages.includes("failed")) return "failed";
  if (stages.every((s) => s === "done" || s === "skipped")) return "done";
  if (stages.includes("in_progress")) return "in_progress";
  return "pending";
}

/**
 * Drives stage `stage` of every item to its target while it is the first stage of the pipeline
 * (always claimable): claim all, then done, failed, skipped, released (pending) or kept.
 */
async function driveFirstStage(db: Store, stage: string, targetOf: Map<string, StageStatus>) {
  const now = fakeClock().now;
  const runId = `run-${stage}`;
  const claims = await db.claimBatch({ jobId: "j", stage, runId, limit: 1000, leaseMs: 1e9, now });
  const by = (status: StageStatus) => claims.filter((c) => targetOf.get(c.key) === status);
  await db.markDone({
    jobId: "j",
    runId,
    items: by("done").map((c) => ({
      itemId: c.itemId,
      stage,
      position: 0,
      result: { stage },
      handlerVersion: null,
    })),
    now,
  });
  await db.markFailed({
    jobId: "j",
    runId,
    items: by("failed").map((c) => ({
      itemId: c.itemId,
      stage,
      error: `broken at ${stage}`,
      permanent: true,
      retries: 0,
      backoffMs: 0,
    })),
    now,
  });
  await db.markSkipped({
    jobId: "j",
    runId,
    items: by("skipped").map((c) => ({ itemId: c.itemId, stage, position: 0, reason: "skip" })),
    now,
  });
  await db.releaseClaims({
    runId,
    items: by("pending").map((c) => ({ itemId: c.itemId, stage })),
  });
}

/**
 * Builds one item per combination through the store's API: the pipeline grows from its last
 * stage to its first, and each new first stage is driven to the item's target for it.
 */
async function seedCombinations(db: Store): Promise<Map<string, StageStatus[]>> {
  const targets = new Map(COMBINATIONS.map((combo) => [combo.join("/"), combo]));
  const items = [...targets.keys()].map((key) => ({ key, data: {} }));
  await db.upsertItems({ jobId: "j", stages: ["c"], items });
  for (let i = STAGES.length - 1; i >= 0; i--) {
    if (i < STAGES.length - 1) await db.syncStages({ jobId: "j", stages: STAGES.slice(i) });
    const targetOf = new Map([...targets].map(([key, combo]) => [key, combo[i]]));
    await driveFirstStage(db, STAGES[i], targetOf);
  }
  return targets;
}

Deno.test("item_derived_status gives the right status for all 125 combinations of 3 stages", async () => {
  await using t = await tempDb();
  const targets = await seedCombinations(t.db);
  const items = await t.db.listItems({ jobId: "j", limit: 1000 });
  assertEquals(items.length, 125);
  for (const item of items) {
    const combo = targets.get(item.key)!;
    assertEquals(item.stages.map((s) => [s.stage, s.status]), STAGES.map((s, i) => [s, combo[i]]));
    assertEquals(item.status, expectedStatus(combo), `item ${item.key}`);
  }
  const counts = { pending: 0, in_progress: 0, done: 0, failed: 0 };
  for (const combo of COMBINATIONS) counts[expectedStatus(combo)]++;
  // 61 with a failed stage, 8 all done/skipped, 37 with in_progress, the rest pending.
  assertEquals(counts, { failed: 61, done: 8, in_progress: 37, pending: 19 });
});

Deno.test("getJobStats() item counts equal the counts of item_derived_status", async () => {
  await using t = await tempDb();
  await seedCombinations(t.db);
  const items = await t.db.listItems({ jobId: "j", limit: 1000 });
  const fromView = { total: items.length, pending: 0, in_progress: 0, done: 0, failed: 0 };
  for (const item of items) fromView[item.status]++;
  const stats = await t.db.getJobStats("j");
  assertEquals(stats.items, fromView);
  assertEquals(stats.items, { total: 125, failed: 61, done: 8, in_progress: 37, pending: 19 });
  // Each stage holds every status 25 times.
  assertEquals(stats.stages, await t.db.stageStats("j"));
  assertEquals(
    stats.stages.map((s) => [s.stage, s.pending, s.inProgress, s.done, s.failed, s.skipped]),
    STAGES.map((s) => [s, 25, 25, 25, 25, 25]),
  );
});

Deno.test("listItems() filters by derived status through the view", async () => {
  await using t = await tempDb();
  const targets = await seedCombinations(t.db);
  for (const status of ["pending", "in_progress", "done", "failed"] as const) {
    const listed = await t.db.listItems({ jobId: "j", status, limit: 1000 });
    const expected = [...targets].filter(([, combo]) => expectedStatus(combo) === status)
      .map(([key]) => key).sort();
    assertEquals(listed.map((i) => i.key).sort(), expected, status);
    assertEquals(listed.every((i) => i.status === status), true);
  }
  assertEquals((await t.db.listItems({ jobId: "j", status: "failed", limit: 5 })).length, 5);
  assertEquals((await t.db.listItems({ jobId: "j" })).length, 100);
  assertEquals(await t.db.listItems({ jobId: "other" }), []);
});

Deno.test("listItems() filters by the stage an item is at and by error text", async () => {
  await using t = await tempDb();
  const targets = await seedCombinations(t.db);
  const finished = (s: StageStatus) => s === "done" || s === "skipped";
  const atB = [...targets].filter(([, [a, b]]) => finished(a) && !finished(b)).map(([k]) => k);
  const listedAtB = await t.db.listItems({ jobId: "j", stage: "b", limit: 1000 });
  assertEquals(listedAtB.map((i) => i.key).sort(), atB.sort());
  assertEquals(atB.length, 2 * 3 * 5);
  const failedAtB = await t.db.listItems({
    jobId: "j",
    stage: "b",
    status: "failed",
    limit: 1000,
  });
  assertEquals(
    failedAtB.map((i) => i.key).sort(),
    [...targets]
      .filter(([, [a, b, c]]) => finished(a) && !finished(b) && [b, c].includes("failed"))
      .map(([k]) => k).sort(),
  );
  const brokenAtC = await t.db.listItems({ jobId: "j", error: "broken at c", limit: 1000 });
  assertEquals(brokenAtC.length, 25);
  assertEquals(brokenAtC.every((i) => i.stages[2].error === "broken at c"), true);
  assertEquals(await t.db.listItems({ jobId: "j", error: "no such error" }), []);
});

Deno.test("listItems() pages by id after and before an item, each filter keeping discovery order", async () => {
  await using t = await tempDb();
  const targets = await seedCombinations(t.db);
  for (const filter of [{}, { status: "failed" as const }, { stage: "b" }]) {
    const every = await t.db.listItems({ jobId: "j", ...filter, limit: 1000 });
    assertEquals(every.length > 20, true, JSON.stringify(filter));
    // Forwards, 7 at a time, then back from the end, 7 at a time: the same items both ways.
    const forwards = [];
    for (let after = 0;;) {
      const page = await t.db.listItems({ jobId: "j", ...filter, afterId: after, limit: 7 });
      forwards.push(...page);
      if (page.length < 7) break;
      after = page.at(-1)!.id;
    }
    assertEquals(forwards, every, JSON.stringify(filter));
    const backwards = [];
    for (let before = every.at(-1)!.id + 1;;) {
      const page = await t.db.listItems({ jobId: "j", ...filter, beforeId: before, limit: 7 });
      assertEquals(page.map((i) => i.id), [...page.map((i) => i.id)].sort((a, b) => a - b));
      backwards.unshift(...page);
      if (page.length < 7) break;
      before = page[0].id;
    }
    assertEquals(backwards, every, JSON.stringify(filter));
  }
  const all = await t.db.listItems({ jobId: "j", limit: 1000 });
  assertEquals(all.length, targets.size);
  // A window between two items: after the 10th, before the 15th.
  const window = await t.db.listItems({
    jobId: "j",
    afterId: all[9].id,
    beforeId: all[14].id,
    limit: 3,
  });
  assertEquals(window.map((i) => i.key), all.slice(11, 14).map((i) => i.key));
  assertEquals(await t.db.listItems({ jobId: "j", afterId: all.at(-1)!.id }), []);
});

Deno.test("an item's derived status follows it through a normal run", async () => {
  await using t = await tempDb();
  const now = fakeClock().now;
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: [{ key: "x", data: {} }] });
  const status = async () => (await t.db.listItems({ jobId: "j" }))[0].status;
  const seen: DerivedStatus[] = [await status()];
  for (const stage of STAGES) {
    const [c] = await t.db.claimBatch({
      jobId: "j",
      stage,
      runId: "r",
      limit: 1,
      leaseMs: 1e6,
      now,
    });
    seen.push(await status());
    await t.db.markDone({
      jobId: "j",
      runId: "r",
      items: [{ itemId: c.itemId, stage, position: c.position, result: 1, handlerVersion: null }],
      now,
    });
    seen.push(await status());
  }
  assertEquals(seen, [
    "pending",
    "in_progress",
    "pending",
    "in_progress",
    "pending",
    "in_progress",
    "done",
  ]);
});
