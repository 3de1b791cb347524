import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tempDb } from "./_helpers.ts";

const DAY1 = Date.UTC(2026, 2, 14);
const DAY2 = Date.UTC(2026, 2, 15);

Deno.test("logEvent() stores every field and getEvents() returns it newest first", async () => {
  await using t = await tempDb();
  const first = await t.db.logEvent({
    ts: DAY1,
    jobId: "j",
    itemId: 7,
    stage: "parse",
    kind: "note",
    message: "hello",
    data: { a: [1, 2] },
  });
  const second = await t.db.logEvent({ ts: DAY1 + 1, kind: "startup", message: "run started" });
  assertEquals(second, first + 1);
  assertEquals(await t.db.getEvents(), [
    {
      id: second,
      ts: DAY1 + 1,
      jobId: null,
      itemId: null,
      stage: null,
      kind: "startup",
      message: "run started",
      data: null,
      costUsd: null,
    },
    {
      id: first,
      ts: DAY1,
      jobId: "j",
      itemId: 7,
      stage: "parse",
      kind: "note",
      message: "hello",
      data: { a: [1, 2] },
      costUsd: null,
    },
  ]);
});

Deno.test("getEvents() filters by job, item, kind, time and id, with a limit", async () => {
  await using t = await tempDb();
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) {
    ids.push(
      await t.db.logEvent({
        ts: DAY1 + i * 1000,
        jobId: i % 2 ? "odd" : "even",
        itemId: i % 3,
        kind: i < 5 ? "retry" : "failed",
        message: `e${i}`,
      }),
    );
  }
  const messages = async (filter: Parameters<Store["getEvents"]>[0]) =>
    (await t.db.getEvents(filter)).map((e) => e.message);
  assertEquals(await messages({ jobId: "odd" }), ["e9", "e7", "e5", "e3", "e1"]);
  assertEquals(await messages({ itemId: 0 }), ["e9", "e6", "e3", "e0"]);
  assertEquals(await messages({ kind: "failed", jobId: "even" }), ["e8", "e6"]);
  assertEquals(await messages({ sinceTs: DAY1 + 7000 }), ["e9", "e8", "e7"]);
  assertEquals(await messages({ afterId: ids[6] }), ["e9", "e8", "e7"]);
  assertEquals(await messages({ limit: 2 }), ["e9", "e8"]);
  assertEquals(await messages({ jobId: "odd", kind: "retry", itemId: 1 }), ["e1"]);
  assertEquals(await messages({ jobId: "none" }), []);
  // Several kinds: merged newest first, the limit over all of them.
  assertEquals(await messages({ kind: ["failed", "retry"], jobId: "odd", limit: 4 }), [
    "e9",
    "e7",
    "e5",
    "e3",
  ]);
  assertEquals(await messages({ kind: ["retry", "retry"], sinceTs: DAY1 + 2000 }), [
    "e4",
    "e3",
    "e2",
  ]);
  assertEquals(await messages({ kind: [] }), []);
  // The default limit is 100.
  for (let i = 0; i < 100; i++) await t.db.logEvent({ ts: DAY2, kind: "x", message: "m" });
  assertEquals((await t.db.getEvents()).length, 100);
});

Deno.test("getDailyCost() sums costs by UTC day: 23:59:59.999 and 00:00 are different days", async () => {
  await using t = await tempDb();
  await t.db.logCost({ jobId: "j", usd: 0.25, ts: DAY2 - 1 });
  await t.db.logCost({ jobId: "j", usd: 1.5, ts: DAY2 });
  await t.db.logCost({ jobId: "j", usd: 0.5, ts: DAY2 + 86_400_000 - 1 });
  await t.db.logCost({ jobId: "k", usd: 2, ts: DAY2 + 10 });
  await t.db.logEvent({ ts: DAY2, jobId: "j", kind: "note", message: "no cost" });
  assertEquals(await t.db.getDailyCost({ jobId: "j", day: DAY1 }), 0.25);
  assertEquals(await t.db.getDailyCost({ jobId: "j", day: DAY1 + 3_600_000 }), 0.25);
  assertEquals(await t.db.getDailyCost({ jobId: "j", day: DAY2 }), 2);
  assertEquals(await t.db.getDailyCost({ jobId: "j", day: DAY2 + 86_400_000 - 1 }), 2);
  assertEquals(await t.db.getDailyCost({ day: DAY2 }), 4);
  assertEquals(await t.db.getDailyCost({ jobId: "k", day: DAY1 }), 0);
  assertEquals(await t.db.getDailyCost({ jobId: "j", day: DAY2 + 86_400_000 }), 0);
});

Deno.test("logCost() is a cost event with its item, stage and metadata", async () => {
  await using t = await tempDb();
  await t.db.logCost({
    jobId: "j",
    itemId: 3,
    stage: "summarise",
    usd: 0.0125,
    meta: { model: "m", tokens: 1200 },
    ts: DAY1,
  });
  const [event] = await t.db.getEvents({ kind: "cost" });
  assertEquals(
    [event.jobId, event.itemId, event.stage, event.message, event.data, event.costUsd],
    ["j", 3, "summarise", "$0.0125", { model: "m", tokens: 1200 }, 0.0125],
  );
});

Deno.test("getCostsByDay() groups by UTC day, job and stage over the last days", async () => {
  await using t = await tempDb();
  const DAY0 = DAY1 - 86_400_000;
  await t.db.logCost({ jobId: "j", stage: "a", usd: 9, ts: DAY0 + 5 });
  await t.db.logCost({ jobId: "j", stage: "a", usd: 0.25, ts: DAY2 - 1 });
  await t.db.logCost({ jobId: "j", stage: "a", usd: 0.5, ts: DAY2 - 2 });
  await t.db.logCost({ jobId: "j", stage: "a", usd: 1, ts: DAY2 });
  await t.db.logCost({ jobId: "j", stage: "b", usd: 2, ts: DAY2 + 1 });
  await t.db.logCost({ jobId: "k", usd: 4, ts: DAY2 + 2 });
  const now = DAY2 + 12 * 3_600_000;
  assertEquals(await t.db.getCostsByDay({ days: 2, now }), [
    { day: "2026-03-15", jobId: "j", stage: "a", usd: 1, events: 1 },
    { day: "2026-03-15", jobId: "j", stage: "b", usd: 2, events: 1 },
    { day: "2026-03-15", jobId: "k", stage: null, usd: 4, events: 1 },
    { day: "2026-03-14", jobId: "j", stage: "a", usd: 0.75, events: 2 },
  ]);
  assertEquals(await t.db.getCostsByDay({ days: 1, now, jobId: "j" }), [
    { day: "2026-03-15", jobId: "j", stage: "a", usd: 1, events: 1 },
    { day: "2026-03-15", jobId: "j", stage: "b", usd: 2, events: 1 },
  ]);
  assertEquals((await t.db.getCostsByDay({ days: 3, now, jobId: "j" })).at(-1), {
    day: "2026-03-13",
    jobId: "j",
    stage: "a",
    usd: 9,
    events: 1,
  });
});

Deno.test("getCostPerItem() averages each stage's cost over the distinct items it was spent on", async () => {
  await using t = await tempDb();
  // Two calls for item 1 at summarise: one item, $0.75.
  await t.db.logCost({ jobId: "j", itemId: 1, stage: "summarise", usd: 0.5 });
  await t.db.logCost({ jobId: "j", itemId: 1, stage: "summarise", usd: 0.25 });
  await t.db.logCost({ jobId: "j", itemId: 2, stage: "summarise", usd: 0.25 });
  await t.db.logCost({ jobId: "j", itemId: 2, stage: "fetch", usd: 0.125 });
  // Costs tied to no item or no stage, and other jobs' costs, are left out.
  await t.db.logCost({ jobId: "j", stage: "summarise", usd: 10 });
  await t.db.logCost({ jobId: "j", itemId: 3, usd: 10 });
  await t.db.logCost({ jobId: "other", itemId: 4, stage: "summarise", usd: 10 });
  const stages = ["summarise", "fetch", "store"];
  assertEquals(await t.db.getCostPerItem({ jobId: "j", stages }), [
    { stage: "summarise", items: 2, usd: 1, usdPerItem: 0.5 },
    { stage: "fetch", items: 1, usd: 0.125, usdPerItem: 0.125 },
  ]);
  assertEquals(await t.db.getCostPerItem({ jobId: "none", stages }), []);
});

Deno.test("getCostPerItem() reads a stage's latest pass: the costs since the reprocess before its newest", async () => {
  await using t = await tempDb();
  const pass = async (usd: number) => {
    for (let item = 1; item <= 4; item++) {
      await t.db.logCost({ jobId: "j", itemId: item, stage: "summarise", usd });
      await t.db.logCost({ jobId: "j", itemId: item, stage: "fetch", usd: 0.125 });
    }
  };
  await pass(0.5);
  await t.db.logEvent({ jobId: "j", kind: "reprocess", message: "reset 4 items" });
  // Another job's reprocess does not split this job's passes.
  await t.db.logEvent({ jobId: "other", kind: "reprocess", message: "reset 9 items" });
  await pass(0.25);
  const stages = ["summarise", "fetch"];
  // Not $1.50 over 4 items: the second pass alone.
  assertEquals(await t.db.getCostPerItem({ jobId: "j", stages }), [
    { stage: "summarise", items: 4, usd: 1, usdPerItem: 0.25 },
    { stage: "fetch", items: 4, usd: 0.5, usdPerItem: 0.125 },
  ]);
  // A reprocess with no cost after it yet: the pass before it is still the latest.
  await t.db.logEvent({ jobId: "j", kind: "reprocess", message: "reset 4 items" });
  assertEquals((await t.db.getCostPerItem({ jobId: "j", stages }))[0].usdPerItem, 0.25);
  // Two items of a third pass: they are the latest.
  await t.db.logCost({ jobId: "j", itemId: 1, stage: "summarise", usd: 0.75 });
  await t.db.logCost({ jobId: "j", itemId: 2, stage: "summarise", usd: 0.25 });
  assertEquals((await t.db.getCostPerItem({ jobId: "j", stages }))[0], {
    stage: "summarise",
    items: 2,
    usd: 1,
    usdPerItem: 0.5,
  });
});

Deno.test("getEventsAfter() pages forward through the log, oldest first, with filters", async () => {
  await using t = await tempDb();
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(
      await t.db.logEvent({
        jobId: i % 2 ? "odd" : "even",
        itemId: i % 3,
        kind: i < 3 ? "retry" : "failed",
        message: `e${i}`,
      }),
    );
  }
  const messages = async (filter: Parameters<Store["getEventsAfter"]>[0]) =>
    (await t.db.getEventsAfter(filter)).map((e) => e.message);
  assertEquals(await messages({ afterId: 0 }), ["e0", "e1", "e2", "e3", "e4", "e5"]);
  assertEquals(await messages({ afterId: ids[1], limit: 2 }), ["e2", "e3"]);
  assertEquals(await messages({ afterId: ids[3], limit: 2 }), ["e4", "e5"]);
  assertEquals(await messages({ afterId: ids[5] }), []);
  assertEquals(await messages({ afterId: 0, jobId: "odd" }), ["e1", "e3", "e5"]);
  assertEquals(await messages({ afterId: 0, kind: "failed", itemId: 0 }), ["e3"]);
  assertEquals(await messages({ afterId: ids[1], kind: ["failed", "retry"], limit: 3 }), [
    "e2",
    "e3",
    "e4",
  ]);
});
