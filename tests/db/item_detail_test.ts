import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, tempDb } from "./_helpers.ts";

const STAGES = ["fetch", "parse"];

Deno.test("getItemDetail() returns every stage field, the results and the events", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  const start = clock.now();
  await t.db.upsertItems({
    jobId: "j",
    stages: STAGES,
    items: [{ key: "a", data: { url: "https://example.org/a" } }, { key: "b", data: {} }],
    now: clock.now,
  });
  const claim = { jobId: "j", runId: "r", limit: 1, leaseMs: 60_000, now: clock.now };
  const [fetch] = await t.db.claimBatch({ ...claim, stage: "fetch" });
  clock.advance(1000);
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [{ ...fetch, result: { html: "<p>" }, handlerVersion: "1" }],
    now: clock.now,
  });
  await t.db.logCost({
    jobId: "j",
    itemId: fetch.itemId,
    stage: "fetch",
    usd: 0.5,
    ts: clock.now(),
  });
  const [parse] = await t.db.claimBatch({ ...claim, stage: "parse" });
  clock.advance(1000);
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{ ...parse, error: "bad markup", permanent: true, retries: 0, backoffMs: 0 }],
    now: clock.now,
  });
  const detail = await t.db.getItemDetail({ jobId: "j", key: "a" });
  assertEquals(
    detail && { ...detail, events: detail.events.map((e) => [e.kind, e.stage, e.message]) },
    {
      id: fetch.itemId,
      jobId: "j",
      key: "a",
      data: { url: "https://example.org/a" },
      discoveredAt: start,
      updatedAt: start,
      status: "failed",
      parent: null,
      stages: [
        {
          stage: "fetch",
          position: 0,
          status: "done",
          attempts: 1,
          crashes: 0,
          runAfter: 0,
          claimedBy: null,
          leaseUntil: null,
          startedAt: start,
          finishedAt: start + 1000,
          error: null,
        },
        {
          stage: "parse",
          position: 1,
          status: "failed",
          attempts: 1,
          crashes: 0,
          runAfter: 0,
          claimedBy: null,
          leaseUntil: null,
          startedAt: start + 1000,
          finishedAt: start + 2000,
          error: "bad markup",
        },
      ],
      results: [{
        itemId: fetch.itemId,
        stage: "fetch",
        handlerVersion: "1",
        result: { html: "<p>" },
        createdAt: start + 1000,
      }],
      events: [["failed", "parse", "bad markup"], ["cost", "fetch", "$0.50"]],
    },
  );
});

Deno.test("getItemDetail() of an unknown key, or of another job's key, is undefined", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: [{ key: "a", data: {} }] });
  assertEquals(await t.db.getItemDetail({ jobId: "j", key: "zzz" }), undefined);
  assertEquals(await t.db.getItemDetail({ jobId: "other", key: "a" }), undefined);
});

Deno.test("findItem() and findItemByUrl() find an item by key and by data.url within its job", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({
    jobId: "j",
    stages: STAGES,
    items: [
      { key: "a", data: { url: "https://example.org/a" } },
      { key: "b", data: { url: "https://example.org/b" } },
    ],
  });
  await t.db.upsertItems({
    jobId: "other",
    stages: STAGES,
    items: [{ key: "c", data: { url: "https://example.org/c" } }],
  });
  const b = await t.db.findItem({ jobId: "j", key: "b" });
  assertEquals(b?.key, "b");
  assertEquals(await t.db.findItemByUrl({ jobId: "j", url: "https://example.org/b" }), b);
  assertEquals(await t.db.findItem({ jobId: "j", key: "c" }), undefined);
  assertEquals(await t.db.findItemByUrl({ jobId: "j", url: "https://example.org/c" }), undefined);
});

Deno.test("getItemKeys() maps ids to keys and leaves out ids that do not exist", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({
    jobId: "j",
    stages: STAGES,
    items: [{ key: "a", data: {} }, { key: "b", data: {} }],
  });
  const a = (await t.db.findItem({ jobId: "j", key: "a" }))!.id;
  const b = (await t.db.findItem({ jobId: "j", key: "b" }))!.id;
  assertEquals(
    await t.db.getItemKeys({ itemIds: [b, a, b, 999] }),
    new Map([[a, "a"], [b, "b"]]),
  );
});
