import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, resultsOf, tempDb } from "./_helpers.ts";

const STAGES = ["fetch", "parse", "store"];

/** Runs `stage` to done for every claimable item, with results of handler version `version`. */
async function runStage(
  db: Store,
  stage: string,
  version: string | null,
  now: () => number,
  limit = 100,
): Promise<number[]> {
  const claims = await db.claimBatch({
    jobId: "j",
    stage,
    runId: "r",
    limit,
    leaseMs: 60_000,
    now,
  });
  await db.markDone({
    jobId: "j",
    runId: "r",
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage,
      position: c.position,
      result: { stage, version, key: c.key },
      handlerVersion: version,
    })),
    now,
  });
  return claims.map((c) => c.itemId);
}

async function runAll(db: Store, version: string, now: () => number): Promise<void> {
  for (const stage of STAGES) await runStage(db, stage, version, now);
}

async function statusTable(db: Store): Promise<string[][]> {
  return (await db.listItems({ jobId: "j", limit: 1000 })).map((
    item,
  ) => [item.key, ...item.stages.map((s) => s.status)]);
}

Deno.test("results keep the handler version they were made with", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  await runStage(t.db, "fetch", "f1", clock.now);
  clock.advance(10);
  const [id] = await runStage(t.db, "parse", "p7", clock.now);
  assertEquals(await resultsOf(t.db, id), [
    {
      itemId: id,
      stage: "fetch",
      handlerVersion: "f1",
      result: { stage: "fetch", version: "f1", key: "k1" },
      createdAt: Date.UTC(2026, 0, 1),
    },
    {
      itemId: id,
      stage: "parse",
      handlerVersion: "p7",
      result: { stage: "parse", version: "p7", key: "k1" },
      createdAt: Date.UTC(2026, 0, 1) + 10,
    },
  ]);
  // A stage without a result has none.
  assertEquals((await resultsOf(t.db, id)).map((r) => r.stage), ["fetch", "parse"]);
});

Deno.test("getStaleCount() counts done results whose version differs from the stage's", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(4) });
  await runAll(t.db, "v1", clock.now);
  // No recorded version: nothing can be called stale.
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  await t.db.setHandlerVersion({ jobId: "j", stage: "parse", version: "v1" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  await t.db.setHandlerVersion({ jobId: "j", stage: "parse", version: "v2" });
  await t.db.setHandlerVersion({ jobId: "j", stage: "store", version: "v3" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { parse: 4, store: 4 });
  // Another job's results do not count.
  await t.db.upsertItems({ jobId: "other", stages: STAGES, items: makeItems(2) });
  assertEquals(await t.db.getStaleCount({ jobId: "other" }), {});
});

Deno.test("getStaleCount() and reprocessStale() count from the versions given over the recorded ones", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  await runAll(t.db, "v1", clock.now);
  for (const stage of STAGES) await t.db.setHandlerVersion({ jobId: "j", stage, version: "v1" });
  // parse is configured at v2 now; store keeps its recorded v1; fetch has no version at all.
  const versions = { fetch: null, parse: "v2" };
  assertEquals(await t.db.getStaleCount({ jobId: "j", versions }), { parse: 3 });
  assertEquals(await t.db.getStaleCount({ jobId: "j", versions: { store: "v9" } }), { store: 3 });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  // A version given for a stage the job does not have changes nothing.
  assertEquals(await t.db.getStaleCount({ jobId: "j", versions: { gone: "v2" } }), {});
  assertEquals(await t.db.reprocessStale({ jobId: "j", versions, dryRun: true }), 3);
  assertEquals(await t.db.reprocessStale({ jobId: "j", versions: { fetch: null } }), 0);
  assertEquals(await t.db.reprocessStale({ jobId: "j", versions, now: clock.now }), 3);
  assertEquals((await statusTable(t.db))[0], ["k1", "done", "pending", "pending"]);
  assertEquals(await t.db.getStaleCount({ jobId: "j", versions }), {});
});

Deno.test("results made without a handler version are stale once the stage has one", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  for (const stage of STAGES) await runStage(t.db, stage, null, clock.now);
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 0);
  await t.db.setHandlerVersion({ jobId: "j", stage: "parse", version: "v1" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { parse: 3 });
  assertEquals(await t.db.reprocessStale({ jobId: "j", dryRun: true }), 3);
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 3);
  assertEquals((await statusTable(t.db)).map((row) => row.slice(1)), [
    ["done", "pending", "pending"],
    ["done", "pending", "pending"],
    ["done", "pending", "pending"],
  ]);
});

Deno.test("reprocessStale() resets the stale stage and every later one, not earlier ones", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  await runAll(t.db, "v1", clock.now);
  await t.db.setHandlerVersion({ jobId: "j", stage: "parse", version: "v2" });
  assertEquals(await t.db.reprocessStale({ jobId: "j", dryRun: true }), 3);
  assertEquals((await statusTable(t.db))[0], ["k1", "done", "done", "done"]);
  assertEquals((await t.db.getEvents({ kind: "reprocess" })).length, 0);
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 3);
  assertEquals(await statusTable(t.db), [
    ["k1", "done", "pending", "pending"],
    ["k2", "done", "pending", "pending"],
    ["k3", "done", "pending", "pending"],
  ]);
  const [item] = await t.db.listItems({ jobId: "j", limit: 1 });
  assertEquals(item.stages.map((s) => s.attempts), [1, 0, 0]);
  const [event] = await t.db.getEvents({ kind: "reprocess" });
  assertEquals([event.jobId, event.message, event.data], ["j", "reset 3 items for stale results", {
    items: 3,
  }]);
  // Only parse is claimable: store waits for it again.
  const [storeClaims, parseIds] = [
    await t.db.claimBatch({ jobId: "j", stage: "store", runId: "x", limit: 9, leaseMs: 1 }),
    await runStage(t.db, "parse", "v2", clock.now),
  ];
  assertEquals(storeClaims, []);
  assertEquals(parseIds.length, 3);
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  assertEquals((await runStage(t.db, "store", "v1", clock.now)).length, 3);
});

Deno.test("reprocessStale() twice does not take back a stage that is being reprocessed", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2) });
  await runAll(t.db, "v1", clock.now);
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v2" });
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 2);
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "fetch",
    runId: "r",
    limit: 1,
    leaseMs: 60_000,
    now: clock.now,
  });
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 0);
  assertEquals(claims.length, 1);
  assertEquals(
    await t.db.markDone({
      jobId: "j",
      runId: "r",
      items: [{
        itemId: claims[0].itemId,
        stage: "fetch",
        position: 0,
        result: 1,
        handlerVersion: "v2",
      }],
      now: clock.now,
    }),
    1,
  );
});

Deno.test("reprocessStale() with a stage resets from that stage only when it is stale", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2) });
  await runAll(t.db, "v1", clock.now);
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v2" });
  await t.db.setHandlerVersion({ jobId: "j", stage: "store", version: "v2" });
  assertEquals(await t.db.reprocessStale({ jobId: "j", stage: "parse", now: clock.now }), 0);
  assertEquals(await t.db.reprocessStale({ jobId: "j", stage: "store", now: clock.now }), 2);
  assertEquals(await statusTable(t.db), [
    ["k1", "done", "done", "pending"],
    ["k2", "done", "done", "pending"],
  ]);
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 2 });
  // Without a stage, the earliest stale stage of each item is where its reset starts.
  assertEquals(await t.db.reprocessStale({ jobId: "j", now: clock.now }), 2);
  assertEquals(await statusTable(t.db), [
    ["k1", "pending", "pending", "pending"],
    ["k2", "pending", "pending", "pending"],
  ]);
});

Deno.test("reprocessStage() resets one stage and every later one of every item it reached", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  await runStage(t.db, "fetch", "v1", clock.now);
  await runStage(t.db, "parse", "v1", clock.now, 2);
  await runStage(t.db, "store", "v1", clock.now, 1);
  const before = await statusTable(t.db);
  assertEquals(before, [
    ["k1", "done", "done", "done"],
    ["k2", "done", "done", "pending"],
    ["k3", "done", "pending", "pending"],
  ]);
  assertEquals(await t.db.reprocessStage({ jobId: "j", stage: "parse", dryRun: true }), 2);
  assertEquals(await statusTable(t.db), before);
  assertEquals(await t.db.reprocessStage({ jobId: "j", stage: "parse", now: clock.now }), 2);
  assertEquals(await statusTable(t.db), [
    ["k1", "done", "pending", "pending"],
    ["k2", "done", "pending", "pending"],
    ["k3", "done", "pending", "pending"],
  ]);
  const [event] = await t.db.getEvents({ kind: "reprocess" });
  assertEquals([event.stage, event.message], ["parse", "reset 2 items for stage parse"]);
  assertEquals((await runStage(t.db, "parse", "v1", clock.now)).length, 3);
});

Deno.test("a claim carries the results of earlier stages only", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  await runAll(t.db, "v1", clock.now);
  await t.db.reprocessStage({ jobId: "j", stage: "parse", now: clock.now });
  const [claim] = await t.db.claimBatch({
    jobId: "j",
    stage: "parse",
    runId: "r",
    limit: 1,
    leaseMs: 60_000,
    now: clock.now,
  });
  // The old parse and store results are still stored, but they are not inputs of parse.
  assertEquals(claim.results, { fetch: { stage: "fetch", version: "v1", key: "k1" } });
});

Deno.test("getDoneResults() lists items done at a stage, oldest first, with their result", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  for (const key of ["k3", "k1", "k2"]) {
    const n = Number(key.slice(1));
    clock.advance(1000);
    const claims = await t.db.claimBatch({
      jobId: "j",
      stage: "fetch",
      runId: "r",
      limit: 3,
      leaseMs: 60_000,
      now: clock.now,
    });
    const mine = claims.find((c) => c.key === key)!;
    await t.db.markDone({
      jobId: "j",
      runId: "r",
      items: [{
        itemId: mine.itemId,
        stage: "fetch",
        position: 0,
        result: { n },
        handlerVersion: "1",
      }],
      now: clock.now,
    });
    // Give the others back for the next round.
    await t.db.releaseClaims({ runId: "r" });
  }
  const start = Date.UTC(2026, 0, 1);
  assertEquals(await t.db.getDoneResults({ jobId: "j", stage: "fetch" }), [
    { key: "k3", data: { n: 3 }, result: { n: 3 }, finishedAt: start + 1000 },
    { key: "k1", data: { n: 1 }, result: { n: 1 }, finishedAt: start + 2000 },
    { key: "k2", data: { n: 2 }, result: { n: 2 }, finishedAt: start + 3000 },
  ]);
  assertEquals(
    (await t.db.getDoneResults({ jobId: "j", stage: "fetch", limit: 2 })).map((r) => r.key),
    ["k3", "k1"],
  );
  assertEquals(
    (await t.db.getDoneResults({ jobId: "j", stage: "fetch", finishedSince: start + 2000 }))
      .map((r) => r.key),
    ["k1", "k2"],
  );
  assertEquals(
    await t.db.getDoneResults({ jobId: "j", stage: "fetch", finishedSince: start + 3001 }),
    [],
  );
  assertEquals(await t.db.getDoneResults({ jobId: "j", stage: "parse" }), []);
});

/** Runs `stage` of `jobId` to done for up to `limit` claimable items with results of `version`. */
async function finish(
  db: Store,
  jobId: string,
  stage: string,
  version: string | null,
  limit = 100,
): Promise<void> {
  const claims = await db.claimBatch({ jobId, stage, runId: "r", limit, leaseMs: 60_000 });
  await db.markDone({
    jobId,
    runId: "r",
    items: claims.map((c) => ({ ...c, result: {}, handlerVersion: version })),
  });
}

Deno.test("getStaleCount() counts done rows only, whichever version is the more common", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["fetch"], items: makeItems(10) });
  await finish(t.db, "j", "fetch", "v1");
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v2" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 10 });
  // Reset for reprocessing: the old results stay, but a pending stage is not stale.
  await t.db.reprocessStage({ jobId: "j", stage: "fetch" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  await finish(t.db, "j", "fetch", "v2", 7);
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), {});
  // An old process finishes the other 3 with v1: fewer old results than current ones.
  await finish(t.db, "j", "fetch", "v1");
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 3 });
  // Back to v1: now the 7 v2 results are stale, and more common than the current ones.
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v1" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 7 });
});

Deno.test("getStaleCount() counts results without a version, and never another job's results", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["fetch"], items: makeItems(3) });
  await t.db.upsertItems({ jobId: "other", stages: ["fetch"], items: makeItems(5) });
  await finish(t.db, "j", "fetch", "v2", 2);
  await finish(t.db, "j", "fetch", null);
  await finish(t.db, "other", "fetch", "v1");
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v2" });
  await t.db.setHandlerVersion({ jobId: "other", stage: "fetch", version: "v1" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 1 });
  assertEquals(await t.db.getStaleCount({ jobId: "other" }), {});
  await t.db.setHandlerVersion({ jobId: "j", stage: "fetch", version: "v3" });
  assertEquals(await t.db.getStaleCount({ jobId: "j" }), { fetch: 3 });
  await t.db.setHandlerVersion({ jobId: "other", stage: "fetch", version: "v2" });
  assertEquals(await t.db.getStaleCount({ jobId: "other" }), { fetch: 5 });
});
