import { type Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, resultOf, tempDb } from "./_helpers.ts";

const STAGES = ["fetch", "parse", "store"];

Deno.test("upsertItems() is idempotent: the same items again change nothing", async () => {
  await using t = await tempDb();
  const first = await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(50) });
  assertEquals(first, { inserted: 50, updated: 0, unchanged: 0 });
  const again = await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(50) });
  assertEquals(again, { inserted: 0, updated: 0, unchanged: 50 });
  const stats = await t.db.stageStats("j");
  assertEquals(stats.map((s) => [s.stage, s.pending]), [["fetch", 50], ["parse", 50], [
    "store",
    50,
  ]]);
});

Deno.test("upsertItems() counts new, changed and unchanged items exactly across many rows", async () => {
  await using t = await tempDb();
  // 5,263 items: more than one chunk of 5,000, and a tail of every statement length.
  const first = await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(5263) });
  assertEquals(first, { inserted: 5263, updated: 0, unchanged: 0 });
  const items = makeItems(5400).map((item, i) => i % 7 === 0 ? { ...item, data: { n: -i } } : item);
  const again = await t.db.upsertItems({ jobId: "j", stages: ["a"], items });
  const changed = items.slice(0, 5263).filter((_, i) => i % 7 === 0).length;
  assertEquals(again, { inserted: 137, updated: changed, unchanged: 5263 - changed });
  const stats = await t.db.stageStats("j");
  assertEquals(stats.map((s) => [s.stage, s.pending]), [["a", 5400]]);
  const listed = await t.db.listItems({ jobId: "j", limit: 6000 });
  assertEquals([listed.length, listed[5262].key, listed[5399].key], [5400, "k5263", "k5400"]);
});

Deno.test("upsertItems() gives every new item a pending row for every stage", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2, 4) });
  const stats = await t.db.stageStats("j");
  assertEquals(
    stats,
    STAGES.map((stage, position) => ({
      stage,
      position,
      pending: 5,
      inProgress: 0,
      done: 0,
      failed: 0,
      skipped: 0,
    })),
  );
});

Deno.test("upsertItems() keeps the first of duplicate keys in one batch, as discovery does", async () => {
  await using t = await tempDb();
  const counts = await t.db.upsertItems({
    jobId: "j",
    stages: ["a"],
    items: [{ key: "x", data: { v: 1 } }, { key: "x", data: { v: 2 } }],
  });
  assertEquals(counts, { inserted: 1, updated: 0, unchanged: 0 });
  const [claim] = await t.db.claimBatch({
    jobId: "j",
    stage: "a",
    runId: "r",
    limit: 5,
    leaseMs: 1000,
  });
  assertEquals(claim.data, { v: 1 });
});

Deno.test("re-discovery updates data without resetting stages", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2), now: clock.now });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "fetch",
    runId: "r",
    limit: 1,
    leaseMs: 60_000,
    now: clock.now,
  });
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [{
      itemId: claims[0].itemId,
      stage: "fetch",
      position: 0,
      result: { ok: 1 },
      handlerVersion: "1",
    }],
    now: clock.now,
  });
  clock.advance(1000);
  const counts = await t.db.upsertItems({
    jobId: "j",
    stages: STAGES,
    items: [{ key: "k1", data: { n: 1, title: "changed" } }, { key: "k2", data: { n: 2 } }],
    now: clock.now,
  });
  assertEquals(counts, { inserted: 0, updated: 1, unchanged: 1 });
  const stats = await t.db.stageStats("j");
  assertEquals(stats[0].done, 1);
  assertEquals(stats[0].pending, 1);
  assertEquals((await resultOf(t.db, claims[0].itemId, "fetch"))?.result, { ok: 1 });
  const next = await t.db.claimBatch({
    jobId: "j",
    stage: "parse",
    runId: "r",
    limit: 5,
    leaseMs: 60_000,
    now: clock.now,
  });
  assertEquals(next.map((c) => [c.key, c.data]), [["k1", { n: 1, title: "changed" }]]);
});

Deno.test("a stage added to the config gets rows at the next sync; a removed one loses them", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(4) });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "a",
    runId: "r",
    limit: 4,
    leaseMs: 1000,
  });
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage: "a",
      position: 0,
      result: 1,
      handlerVersion: null,
    })),
  });
  const change = await t.db.syncStages({ jobId: "j", stages: ["a", "x", "b"] });
  assertEquals(change, { added: ["x"], removed: [] });
  const stats = await t.db.stageStats("j");
  assertEquals(stats.map((s) => [s.stage, s.position, s.pending, s.done]), [
    ["a", 0, 0, 4],
    ["x", 1, 4, 0],
    ["b", 2, 4, 0],
  ]);
  // The new stage follows a done stage, so it is claimable; b now waits for x.
  assertEquals(
    (await t.db.claimBatch({ jobId: "j", stage: "b", runId: "r", limit: 9, leaseMs: 1000 }))
      .length,
    0,
  );
  assertEquals(
    (await t.db.claimBatch({ jobId: "j", stage: "x", runId: "r", limit: 9, leaseMs: 1000 }))
      .length,
    4,
  );
  const removed = await t.db.syncStages({ jobId: "j", stages: ["a", "b"] });
  assertEquals(removed, { added: [], removed: ["x"] });
  assertEquals((await t.db.stageStats("j")).map((s) => s.stage), ["a", "b"]);
  assertEquals(
    (await t.db.claimBatch({ jobId: "j", stage: "b", runId: "r", limit: 9, leaseMs: 1000 }))
      .length,
    4,
  );
});

Deno.test("jobs are kept apart: the same key in two jobs is two items", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "a", stages: ["s"], items: makeItems(3) });
  const counts = await t.db.upsertItems({ jobId: "b", stages: ["s"], items: makeItems(3) });
  assertEquals(counts.inserted, 3);
  assertEquals(
    (await t.db.claimBatch({ jobId: "a", stage: "s", runId: "r", limit: 9, leaseMs: 1000 }))
      .length,
    3,
  );
});

/** Claims `stage` for `keys` and records each outcome: "done", or an error message (permanent). */
async function settle(
  db: Store,
  stage: string,
  outcomes: Record<string, string>,
  now: () => number,
): Promise<void> {
  const claims = await db.claimBatch({
    jobId: "j",
    stage,
    runId: "r",
    limit: 100,
    leaseMs: 60_000,
    now,
  });
  const byKey = new Map(claims.map((c) => [c.key, c]));
  const done = Object.entries(outcomes).filter(([, o]) => o === "done").map(([k]) => byKey.get(k)!);
  const failed = Object.entries(outcomes).filter(([, o]) => o !== "done");
  await db.markDone({
    jobId: "j",
    runId: "r",
    items: done.map((c) => ({ ...c, result: {}, handlerVersion: null })),
    now,
  });
  await db.markFailed({
    jobId: "j",
    runId: "r",
    items: failed.map(([k, error]) => ({
      ...byKey.get(k)!,
      error,
      permanent: true,
      retries: 0,
      backoffMs: 0,
    })),
    now,
  });
}

async function stageRows(db: Store): Promise<string[][]> {
  return (await db.listItems({ jobId: "j" })).map((item) => [
    item.key,
    ...item.stages.map((s) => `${s.status}/${s.attempts}${s.error ? `/${s.error}` : ""}`),
  ]);
}

Deno.test("retryFailed() puts matching failed stages back to pending, attempts 0, with one event", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(4), now: clock.now });
  await settle(
    t.db,
    "fetch",
    { k1: "done", k2: "HTTP 500", k3: "timeout", k4: "HTTP 500" },
    clock.now,
  );
  await settle(t.db, "parse", { k1: "HTTP 500" }, clock.now);
  const retried = await t.db.retryFailed({
    jobId: "j",
    stage: "fetch",
    errorContains: "HTTP 500",
    now: clock.now,
  });
  assertEquals(retried, 2);
  assertEquals(await stageRows(t.db), [
    ["k1", "done/1", "failed/1/HTTP 500", "pending/0"],
    ["k2", "pending/0", "pending/0", "pending/0"],
    ["k3", "failed/1/timeout", "pending/0", "pending/0"],
    ["k4", "pending/0", "pending/0", "pending/0"],
  ]);
  const [event] = await t.db.getEvents({ kind: "retry_failed" });
  assertEquals(
    [event.jobId, event.stage, event.message, event.data, event.ts],
    ["j", "fetch", "reset 2 failed stages to pending", {
      count: 2,
      stage: "fetch",
      errorContains: "HTTP 500",
    }, clock.now()],
  );
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "fetch",
    runId: "r2",
    limit: 10,
    leaseMs: 1000,
    now: clock.now,
  });
  assertEquals(claims.map((c) => [c.key, c.attempts]), [["k2", 1], ["k4", 1]]);
});

Deno.test("retryFailed() filters by item, and retries every stage when given no filter", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3), now: clock.now });
  await settle(t.db, "fetch", { k1: "done", k2: "done", k3: "gone" }, clock.now);
  await settle(t.db, "parse", { k1: "bad", k2: "bad" }, clock.now);
  assertEquals(await t.db.retryFailed({ jobId: "j", itemKey: "k2" }), 1);
  assertEquals((await stageRows(t.db)).map((r) => r.slice(1, 3)), [
    ["done/1", "failed/1/bad"],
    ["done/1", "pending/0"],
    ["failed/1/gone", "pending/0"],
  ]);
  assertEquals(await t.db.retryFailed({ jobId: "j", itemKey: "nope" }), 0);
  assertEquals(await t.db.retryFailed({ jobId: "j" }), 2);
  assertEquals(await t.db.retryFailed({ jobId: "j" }), 0);
  assertEquals((await t.db.getEvents({ kind: "retry_failed" })).map((e) => e.message), [
    "reset 2 failed stages to pending",
    "reset 1 failed stage to pending",
  ]);
  // Another job's failures are never touched.
  assertEquals(await t.db.retryFailed({ jobId: "other" }), 0);
});

Deno.test("retryFailed() leaves a stage unclaimable while the stage before it is not done", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({
    jobId: "j",
    stages: ["fetch", "parse"],
    items: makeItems(1),
    now: clock.now,
  });
  await settle(t.db, "fetch", { k1: "done" }, clock.now);
  await settle(t.db, "parse", { k1: "bad" }, clock.now);
  // A stage added in between: parse now waits for clean.
  await t.db.syncStages({ jobId: "j", stages: ["fetch", "clean", "parse"] });
  assertEquals(await t.db.retryFailed({ jobId: "j", stage: "parse" }), 1);
  const claim = { jobId: "j", runId: "r", limit: 5, leaseMs: 1000, now: clock.now };
  assertEquals(await t.db.claimBatch({ ...claim, stage: "parse" }), []);
  await settle(t.db, "clean", { k1: "done" }, clock.now);
  assertEquals((await t.db.claimBatch({ ...claim, stage: "parse" })).map((c) => c.key), ["k1"]);
});

Deno.test("upsertItems() reads a one-pass iterable chunk by chunk: a key repeated chunks later is one item", async () => {
  await using t = await tempDb();
  let read = 0;
  function* items() {
    for (let i = 0; i < 12_000; i++) {
      read++;
      // Item 11,000 repeats item 3's key with other data, two chunks of 5,000 later.
      yield i === 11_000 ? { key: "k3", data: { n: -1 } } : { key: `k${i}`, data: { n: i } };
    }
  }
  const counts = await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: items() });
  assertEquals([counts, read], [{ inserted: 11_999, updated: 0, unchanged: 0 }, 12_000]);
  const detail = await t.db.getItemDetail({ jobId: "j", key: "k3" });
  assertEquals(detail?.data, { n: 3 });
  const stats = await t.db.stageStats("j");
  assertEquals(stats.map((s) => [s.stage, s.pending]), [["a", 11_999], ["b", 11_999]]);
});

Deno.test("two keys that differ only in a lone surrogate are one item, as they are stored", async () => {
  await using t = await tempDb();
  const items = [{ key: "a\ud800b", data: { n: 1 } }, { key: "a\ufffdb", data: { n: 2 } }];
  assertEquals(await t.db.upsertItems({ jobId: "j", stages: ["a"], items }), {
    inserted: 1,
    updated: 0,
    unchanged: 0,
  });
  const [listed] = await t.db.listItems({ jobId: "j" });
  const detail = await t.db.getItemDetail({ jobId: "j", key: "a\ufffdb" });
  assertEquals([listed.key, detail?.data], ["a\ufffdb", { n: 1 }]);
});

Deno.test("a key with a lone surrogate is one item, found again by the same key", async () => {
  await using t = await tempDb();
  const items = [{ key: "a\ud800b", data: { n: 1 } }];
  assertEquals(await t.db.upsertItems({ jobId: "j", stages: ["a"], items }), {
    inserted: 1,
    updated: 0,
    unchanged: 0,
  });
  assertEquals(await t.db.upsertItems({ jobId: "j", stages: ["a"], items }), {
    inserted: 0,
    updated: 0,
    unchanged: 1,
  });
  const detail = await t.db.getItemDetail({ jobId: "j", key: "a\ud800b" });
  assertEquals(detail?.stages.map((st) => st.status), ["pending"]);
  const [listed] = await t.db.listItems({ jobId: "j" });
  assertEquals(listed.key, "a\ufffdb");
});
