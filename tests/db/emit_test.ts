import type { EmittedItems, Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const STAGES = ["expand", "report"];
const PAGE_STAGES = ["fetch", "parse"];
const LEASE = 60_000;

function claim(db: Store, stage: string, now: () => number, runId = "r1") {
  return db.claimBatch({ jobId: "j", stage, runId, limit: 100, leaseMs: LEASE, now });
}

function doneWith(
  db: Store,
  marks: { itemId: number; emit: EmittedItems[] }[],
  now: () => number,
  runId = "r1",
) {
  return db.markDone({
    jobId: "j",
    runId,
    items: marks.map((m) => ({
      itemId: m.itemId,
      stage: "expand",
      position: 0,
      result: { expanded: m.itemId },
      handlerVersion: null,
      emit: m.emit,
    })),
    now,
  });
}

function pages(keys: string[], tag = "a"): EmittedItems {
  return {
    jobId: "pages",
    stages: PAGE_STAGES,
    items: keys.map((key) => ({ key, data: { tag } })),
  };
}

/** Each item of `jobId` as [key, data, parent "job/key" or null, its stage statuses]. */
async function itemsOf(db: Store, jobId: string) {
  const listed = await db.listItems({ jobId, limit: 1000 });
  const out = [];
  for (const item of listed.sort((a, b) => a.key.localeCompare(b.key))) {
    const detail = (await db.getItemDetail({ jobId, key: item.key }))!;
    out.push([
      item.key,
      detail.data,
      detail.parent && `${detail.parent.jobId}/${detail.parent.key}`,
      detail.stages.map((s) => `${s.stage}:${s.status}`).join(" "),
    ]);
  }
  return out;
}

Deno.test("markDone() upserts what a stage emitted into a job that had no stages yet, with its parent", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2) });
  const [c1, c2] = await claim(t.db, "expand", clock.now);
  const recorded = await doneWith(t.db, [
    { itemId: c1.itemId, emit: [pages(["p1", "p2"])] },
    { itemId: c2.itemId, emit: [pages(["p3"]), { ...pages(["k9"]), jobId: "j", stages: STAGES }] },
  ], clock.now);
  assertEquals(recorded, 2);
  assertEquals(await itemsOf(t.db, "pages"), [
    ["p1", { tag: "a" }, "j/k1", "fetch:pending parse:pending"],
    ["p2", { tag: "a" }, "j/k1", "fetch:pending parse:pending"],
    ["p3", { tag: "a" }, "j/k2", "fetch:pending parse:pending"],
  ]);
  assertEquals((await itemsOf(t.db, "j")).map((i) => [i[0], i[2], i[3]]), [
    ["k1", null, "expand:done report:pending"],
    ["k2", null, "expand:done report:pending"],
    ["k9", "j/k2", "expand:pending report:pending"],
  ]);
  const stats = await t.db.stageStats("pages");
  assertEquals(stats.map((s) => [s.stage, s.pending, s.done]), [["fetch", 3, 0], ["parse", 3, 0]]);
  // The children are claimable at their first stage like discovered items.
  const fetched = await t.db.claimBatch({
    jobId: "pages",
    stage: "fetch",
    runId: "r1",
    limit: 10,
    leaseMs: LEASE,
    now: clock.now,
  });
  assertEquals(fetched.map((c) => c.key).sort(), ["p1", "p2", "p3"]);
});

Deno.test("markDone() never adds a child twice: a known key gets the new data and keeps its parent", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2) });
  const [c1, c2] = await claim(t.db, "expand", clock.now);
  await doneWith(t.db, [{ itemId: c1.itemId, emit: [pages(["p1", "p1", "p2"])] }], clock.now);
  await doneWith(t.db, [{ itemId: c2.itemId, emit: [pages(["p2", "p3"], "b")] }], clock.now);
  assertEquals(await itemsOf(t.db, "pages"), [
    ["p1", { tag: "a" }, "j/k1", "fetch:pending parse:pending"],
    ["p2", { tag: "b" }, "j/k1", "fetch:pending parse:pending"],
    ["p3", { tag: "b" }, "j/k2", "fetch:pending parse:pending"],
  ]);
  const stats = await t.db.stageStats("pages");
  assertEquals(stats.map((s) => [s.stage, s.pending]), [["fetch", 3], ["parse", 3]]);
});

Deno.test("markDone() adds nothing for a stage this run no longer holds", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [c1] = await claim(t.db, "expand", clock.now);
  // The lease lapses and another run takes the item.
  clock.advance(LEASE + 1);
  await t.db.reconcileExpiredLeases({ now: clock.now });
  const [again] = await claim(t.db, "expand", clock.now, "r2");
  assertEquals(again.itemId, c1.itemId);
  assertEquals(await doneWith(t.db, [{ itemId: c1.itemId, emit: [pages(["p1"])] }], clock.now), 0);
  assertEquals(await itemsOf(t.db, "pages"), []);
  assertEquals(
    await doneWith(t.db, [{ itemId: c1.itemId, emit: [pages(["p1"])] }], clock.now, "r2"),
    1,
  );
  assertEquals(await itemsOf(t.db, "pages"), [
    ["p1", { tag: "a" }, "j/k1", "fetch:pending parse:pending"],
  ]);
});

Deno.test("copyTo() keeps the parent of every emitted item", async () => {
  await using t = await tempDb();
  await using target = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [c1] = await claim(t.db, "expand", clock.now);
  await doneWith(t.db, [{ itemId: c1.itemId, emit: [pages(["p1"])] }], clock.now);
  await t.db.copyTo(target.db);
  assertEquals(await itemsOf(target.db, "pages"), [
    ["p1", { tag: "a" }, "j/k1", "fetch:pending parse:pending"],
  ]);
});
