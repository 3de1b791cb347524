import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fakeClock, makeItems, SQLITE_ONLY, tempDb, TEST_PG_URL } from "./_helpers.ts";
import { openDb } from "../../src/db/mod.ts";

const DAY = 86_400_000;
const DAY1 = Date.UTC(2026, 2, 10);

/** Costs on three days (two items a day at "parse", one without a stage) plus notes. */
async function seedCosts(db: Store): Promise<void> {
  await db.upsertItems({ jobId: "j", stages: ["parse"], items: makeItems(6) });
  for (let d = 0; d < 3; d++) {
    for (let i = 0; i < 2; i++) {
      await db.logCost({
        jobId: "j",
        itemId: 1 + d * 2 + i,
        stage: "parse",
        usd: 0.25,
        ts: DAY1 + d * DAY + i,
      });
    }
    await db.logCost({ jobId: "j", usd: 1, ts: DAY1 + d * DAY + 5 });
    await db.logEvent({ jobId: "j", kind: "note", message: `day ${d}`, ts: DAY1 + d * DAY + 6 });
    await db.logEvent({ kind: "startup", message: `run ${d}`, ts: DAY1 + d * DAY + 7 });
  }
}

async function costView(db: Store, now: number) {
  return {
    byDay: await db.getCostsByDay({ jobId: "j", days: 30, now }),
    all: await db.getCostsByDay({ days: 30, now }),
    daily: [0, 1, 2].map((d) => db.getDailyCost({ jobId: "j", day: DAY1 + d * DAY })),
    perDay: await db.costPerDay({ jobId: "j", sinceTs: DAY1 - DAY, untilTs: DAY1 + 4 * DAY }),
    // The latest pass of a stage, or the pruned totals: the same figure per item either way.
    perItem: (await db.getCostPerItem({ jobId: "j", stages: ["parse"] }))
      .map((c) => [c.stage, c.usdPerItem]),
    metrics: (await db.jobMetrics({ jobId: "j" })).costs,
  };
}

async function settle(view: Awaited<ReturnType<typeof costView>>) {
  return { ...view, daily: await Promise.all(view.daily) };
}

Deno.test("prune() removes old events in batches and cost readers see the same totals", async () => {
  await using t = await tempDb();
  await seedCosts(t.db);
  const now = DAY1 + 2 * DAY + 10;
  const before = await settle(await costView(t.db, now));
  const cutoff = DAY1 + 2 * DAY;
  const dry = await t.db.prune({ target: "events", before: cutoff, limit: 3, dryRun: true });
  assertEquals([dry.rows, dry.costEvents, dry.done], [10, 6, true]);
  assert(dry.bytes > 10 * 40, `${dry.bytes} bytes`);
  assertEquals((await t.db.getEvents({ limit: 1000 })).length, 15, "a dry run removes nothing");
  const batches = [];
  for (let done = false; !done;) {
    const batch = await t.db.prune({ target: "events", before: cutoff, limit: 3 });
    batches.push([batch.rows, batch.costEvents]);
    done = batch.done;
  }
  // In time order: day 1's three costs, its two notes and day 2's first cost, and so on.
  assertEquals(batches, [[3, 3], [3, 1], [3, 2], [1, 0]]);
  const left = await t.db.getEvents({ limit: 1000 });
  assertEquals(left.map((e) => e.ts).sort(), [0, 1, 5, 6, 7].map((ms) => cutoff + ms));
  assertEquals(await settle(await costView(t.db, now)), before);
  assertEquals(before.byDay.map((r) => [r.day, r.stage, r.usd, r.events]), [
    ["2026-03-12", null, 1, 1],
    ["2026-03-12", "parse", 0.5, 2],
    ["2026-03-11", null, 1, 1],
    ["2026-03-11", "parse", 0.5, 2],
    ["2026-03-10", null, 1, 1],
    ["2026-03-10", "parse", 0.5, 2],
  ]);
  assertEquals(before.perItem, [["parse", 0.25]]);
  // Pruning again, everything: the totals still add up.
  while (!(await t.db.prune({ target: "events", before: now + 1, limit: 100 })).done);
  assertEquals((await t.db.getEvents({ limit: 1000 })).length, 0);
  assertEquals(await settle(await costView(t.db, now)), before);
});

Deno.test("prune() of events keeps a job's own retention apart from every other job's", async () => {
  await using t = await tempDb();
  for (const jobId of ["long", "short", null]) {
    for (let d = 0; d < 4; d++) {
      await t.db.logEvent({ jobId, kind: "note", message: `${jobId} ${d}`, ts: DAY1 + d * DAY });
    }
  }
  const long = await t.db.prune({ target: "events", jobId: "long", before: DAY1 + DAY, limit: 50 });
  const rest = await t.db.prune({
    target: "events",
    exceptJobs: ["long"],
    before: DAY1 + 3 * DAY,
    limit: 50,
  });
  assertEquals([long.rows, rest.rows], [1, 6]);
  const left = (await t.db.getEvents({ limit: 100 })).map((e) => e.message).sort();
  assertEquals(left, ["long 1", "long 2", "long 3", "null 3", "short 3"]);
});

Deno.test("prune() of results removes only what a reprocess left behind, by item ranges", async () => {
  await using t = await tempDb();
  const clock = fakeClock(DAY1);
  const stages = ["a", "b"];
  await t.db.upsertItems({ jobId: "j", stages, items: makeItems(5), now: clock.now });
  for (const [position, stage] of stages.entries()) {
    const claims = await t.db.claimBatch({
      jobId: "j",
      stage,
      runId: "r",
      limit: 10,
      leaseMs: 60_000,
      now: clock.now,
    });
    await t.db.markDone({
      jobId: "j",
      runId: "r",
      items: claims.map((c) => ({ ...c, position, result: { stage }, handlerVersion: "1" })),
      now: clock.now,
    });
  }
  // Stage b of every item is reset: its five results are superseded; a's stay.
  await t.db.reprocessStage({ jobId: "j", stage: "b", now: clock.now });
  clock.advance(10 * DAY);
  const dry = await t.db.prune({
    target: "results",
    jobId: "j",
    before: clock.now(),
    limit: 2,
    dryRun: true,
  });
  assertEquals([dry.rows, dry.done], [5, true]);
  const young = await t.db.prune({ target: "results", jobId: "j", before: DAY1, limit: 10 });
  assertEquals([young.rows, young.done], [0, true], "results younger than the cutoff stay");
  const walk = [];
  let after = 0;
  for (let done = false; !done;) {
    const batch = await t.db.prune({
      target: "results",
      jobId: "j",
      before: clock.now(),
      limit: 2,
      afterItemId: after,
    });
    walk.push(batch.rows);
    after = batch.next!;
    done = batch.done;
  }
  assertEquals(walk, [2, 2, 1]);
  for (const key of ["k1", "k5"]) {
    const item = await t.db.getItemDetail({ jobId: "j", key });
    assertEquals(item!.results.map((r) => r.stage), ["a"]);
  }
});

Deno.test("prune() removes HTTP validators not used for long and finished runs", async () => {
  await using t = await tempDb();
  const a = { jobId: "j", url: "https://a.example/feed" };
  const b = { jobId: "j", url: "https://b.example/feed" };
  await t.db.putHttpCache({ ...a, optionsHash: "h", etag: '"1"', checkedAt: DAY1 });
  await t.db.putHttpCache({ ...b, optionsHash: "h", checkedAt: DAY1 + 5 * DAY });
  const cache = await t.db.prune({ target: "http_cache", before: DAY1 + DAY, limit: 10 });
  assertEquals([cache.rows, cache.done], [1, true]);
  assertEquals(await t.db.getHttpCache(a), undefined);
  assert(await t.db.getHttpCache(b));

  await t.db.registerRun({ runId: "old", now: () => DAY1 });
  await t.db.finishRun({ runId: "old", outcome: "ok", now: () => DAY1 + 1 });
  await t.db.registerRun({ runId: "open", now: () => DAY1 });
  const runs = await t.db.prune({ target: "runs", before: DAY1 + DAY, limit: 10 });
  assertEquals(runs.rows, 1, "only the finished run goes");
  assertEquals((await t.db.prune({ target: "runs", before: DAY1 + DAY, limit: 10 })).rows, 0);
});

Deno.test(
  "a new SQLite store frees pruned pages in steps, and a full vacuum converts an old file",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    const big = "x".repeat(2000);
    for (let i = 0; i < 20; i++) {
      await t.db.upsertItems({
        jobId: "j",
        stages: ["s"],
        items: makeItems(100, i * 100 + 1).map((it) => ({ ...it, data: { big } })),
      });
      for (let e = 0; e < 50; e++) {
        await t.db.logEvent({ jobId: "j", kind: "note", message: big, ts: DAY1 + e });
      }
    }
    while (!(await t.db.prune({ target: "events", before: DAY1 + DAY, limit: 500 })).done);
    let space = await t.db.reclaimSpace({ full: false, maxPages: 100 });
    assertEquals(space.incremental, true);
    assertEquals(space.bytesBefore - space.bytesAfter, 100 * 4096);
    space = await t.db.reclaimSpace({ full: false, maxPages: 100_000 });
    assert(space.bytesAfter < space.bytesBefore);
    await t.db.checkpointWal();
    assertEquals((await Deno.stat(t.path)).size, space.bytesAfter);

    // A file made before incremental freeing existed: VACUUM turns it on.
    const oldPath = `${t.dir}/old.sqlite`;
    const conn = new DatabaseSync(oldPath);
    conn.exec("CREATE TABLE leftover (x)");
    conn.close();
    const old = await openDb(oldPath);
    try {
      await seedCosts(old);
      const costs = await old.getCostsByDay({ days: 30, now: DAY1 + 3 * DAY });
      assertEquals((await old.reclaimSpace({ full: false })).incremental, false);
      assertEquals((await old.reclaimSpace({ full: true })).incremental, true);
      // The store goes on, on the rewritten file, with every row.
      assertEquals(await old.getCostsByDay({ days: 30, now: DAY1 + 3 * DAY }), costs);
      assertEquals((await old.stageStats("j"))[0].pending, 6);
      await old.logEvent({ kind: "note", message: "after" });
    } finally {
      await old.close();
    }
  },
);

Deno.test("reclaimSpace() gives space back on every engine and keeps every row", async () => {
  await using t = await tempDb();
  await seedCosts(t.db);
  while (!(await t.db.prune({ target: "events", before: DAY1 + DAY, limit: 2 })).done);
  const costs = await t.db.getCostsByDay({ days: 30, now: DAY1 + 3 * DAY });
  const space = await t.db.reclaimSpace({ full: true });
  assert(space.bytesBefore > 0 && space.bytesAfter > 0, JSON.stringify(space));
  // PostgreSQL's VACUUM marks space for reuse and may add its free space and visibility maps.
  if (!TEST_PG_URL) assert(space.bytesAfter <= space.bytesBefore, JSON.stringify(space));
  assertEquals(space.incremental, true);
  assertEquals(await t.db.getCostsByDay({ days: 30, now: DAY1 + 3 * DAY }), costs);
});
