import type { Store } from "../../src/db/store.ts";
import { literalOf, normaliseError } from "../../src/db/clusters.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, SQLITE_ONLY, tempDb } from "./_helpers.ts";

import { settle } from "../doctor/_seed.ts";
import { openDb } from "../../src/db/mod.ts";

Deno.test("normaliseError() replaces URLs, quoted values, hex ids and numbers", () => {
  const cases: [string, string][] = [
    [
      "Timeout after 30000 ms fetching https://a.example/x?id=5",
      "Timeout after <n> ms fetching <url>",
    ],
    ['Cannot parse "abc 12" at line 12', 'Cannot parse "<value>" at line <n>'],
    ["Field 'title'  missing", "Field '<value>' missing"],
    ["item 9f86d081884c7d65 failed with code 0x1F", "item <id> failed with code <id>"],
    ["request 123e4567-e89b-12d3-a456-426614174000 rejected", "request <id> rejected"],
    ["utf8 decode error in h264 stream after 1.5s", "utf8 decode error in h264 stream after <n>s"],
    ["decade facade", "decade facade"],
  ];
  assertEquals(cases.map(([error]) => normaliseError(error)), cases.map(([, pattern]) => pattern));
});

Deno.test("literalOf() gives the longest literal part of a pattern", () => {
  assertEquals(literalOf("Timeout after <n> ms fetching <url>"), "Timeout after");
  assertEquals(literalOf('Not found: "<value>"'), "Not found:");
  assertEquals(literalOf("<n>"), "");
});

async function seedFailures(db: Store): Promise<void> {
  const stages = ["fetch", "parse"];
  await db.upsertItems({ jobId: "j", stages, items: makeItems(8) });
  await db.upsertItems({ jobId: "other", stages: ["fetch"], items: makeItems(1) });
  await settle(db, {
    jobId: "j",
    stage: "fetch",
    outcomes: {
      k1: "Timeout after 30000 ms fetching https://a.example/1",
      k2: "Timeout after 5000 ms fetching https://b.example/feed?page=2",
      k3: "Timeout after 30000 ms fetching https://a.example/1",
      k4: 'Not found: "abc"',
      k5: "done",
      k6: "done",
      k7: "done",
      k8: "done",
    },
  });
  await settle(db, {
    jobId: "j",
    stage: "parse",
    outcomes: {
      k5: "Bad JSON at offset 12 in item 9f86d081884c",
      k6: "Bad JSON at offset 12 in item 9f86d081884c",
      k7: "Bad JSON at offset 7 in item 0a1b2c3d4e5f",
      k8: "done",
    },
  });
  await settle(db, {
    jobId: "other",
    stage: "fetch",
    outcomes: { k1: "Timeout after 1 ms fetching https://c.example/" },
  });
}

Deno.test("failureClusters() groups a job's failed stages by normalised error, largest first", async () => {
  await using t = await tempDb();
  await seedFailures(t.db);
  assertEquals(await t.db.failureClusters({ jobId: "j" }), [
    {
      stage: "fetch",
      pattern: "Timeout after <n> ms fetching <url>",
      match: "Timeout after",
      count: 3,
      exampleKeys: ["k1", "k2", "k3"],
    },
    {
      stage: "parse",
      pattern: "Bad JSON at offset <n> in item <id>",
      match: "Bad JSON at offset",
      count: 3,
      exampleKeys: ["k5", "k6", "k7"],
    },
    {
      stage: "fetch",
      pattern: 'Not found: "<value>"',
      match: "Not found:",
      count: 1,
      exampleKeys: ["k4"],
    },
  ]);
});

Deno.test("failureClusters() honours stage, limit and examples", async () => {
  await using t = await tempDb();
  await seedFailures(t.db);
  const parse = await t.db.failureClusters({ jobId: "j", stage: "parse" });
  assertEquals(parse.map((c) => [c.stage, c.count]), [["parse", 3]]);
  const top = await t.db.failureClusters({ jobId: "j", limit: 1, examples: 2 });
  assertEquals(top.map((c) => [c.pattern, c.exampleKeys]), [
    ["Timeout after <n> ms fetching <url>", ["k1", "k2"]],
  ]);
  assertEquals(await t.db.failureClusters({ jobId: "none" }), []);
});

Deno.test("failureClusters() leaves out stages waiting for a retry", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(2) });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "s",
    runId: "r",
    limit: 2,
    leaseMs: 60_000,
  });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: claims.map((c, i) => ({
      itemId: c.itemId,
      stage: "s",
      error: "HTTP 503",
      permanent: i === 0,
      retries: 3,
      backoffMs: 1000,
    })),
  });
  assertEquals((await t.db.failureClusters({ jobId: "j" })).map((c) => c.count), [1]);
});

Deno.test(
  "integrityProblems() is empty for a sound database and lists damage in a corrupt copy",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(3000) });
    assertEquals(await t.db.integrityProblems(), []);
    await t.db.close();
    const copy = `${t.dir}/copy.sqlite`;
    const bytes = await Deno.readFile(t.path);
    const pageSize = (bytes[16] << 8) | bytes[17];
    // Keep page 1 (the schema) so the file opens; scribble over the b-tree pages after it.
    for (let page = 2; page * pageSize < bytes.length; page += 3) {
      bytes.fill(0x5a, (page - 1) * pageSize + 8, (page - 1) * pageSize + 200);
    }
    await Deno.writeFile(copy, bytes);
    const damaged = await openDb(copy, { readOnly: true });
    try {
      const problems = await damaged.integrityProblems();
      assertEquals(problems.length > 0 && !problems.includes("ok"), true, problems.join("\n"));
    } finally {
      await damaged.close();
    }
  },
);

Deno.test("walSize() measures the log and checkpointWal() truncates it", SQLITE_ONLY, async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(200) });
  const before = await t.db.walSize();
  assertEquals(before > 0, true, `WAL of ${before} bytes`);
  assertEquals(before, (await Deno.stat(`${t.path}-wal`)).size);
  assertEquals(await t.db.checkpointWal(), { busy: false, walBytes: 0 });
  assertEquals(await t.db.walSize(), 0);
  assertEquals((await t.db.listItems({ jobId: "j", limit: 1000 })).length, 200);
});

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("leaseProblems() counts what reconcileExpiredLeases() would release, changing nothing", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(5) });
  const pid = await deadPid();
  await t.db.registerRun({ runId: "live", now: clock.now });
  await t.db.registerRun({ runId: "dead", pid, now: clock.now });
  await t.db.registerRun({ runId: "elsewhere", pid, host: "other-host", now: clock.now });
  const claim = (runId: string, leaseMs: number) =>
    t.db.claimBatch({ jobId: "j", stage: "s", runId, limit: 1, leaseMs, now: clock.now });
  await claim("short", 1000);
  await claim("live", 600_000);
  await claim("dead", 600_000);
  await claim("elsewhere", 600_000);
  clock.advance(5000);
  const expected = [{ jobId: "j", expired: 1, deadProcess: 1 }];
  assertEquals(await t.db.leaseProblems({ now: clock.now }), expected);
  assertEquals(await t.db.leaseProblems({ now: clock.now }), expected);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 1,
    deadProcess: 1,
  });
  assertEquals(await t.db.leaseProblems({ now: clock.now }), []);
});

Deno.test("stuckBehindFailures() counts items waiting at later stages behind a failed one", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b", "c"], items: makeItems(4) });
  await settle(t.db, {
    jobId: "j",
    stage: "a",
    outcomes: { k1: "boom", k2: "done", k3: "done", k4: "done" },
  });
  await settle(t.db, { jobId: "j", stage: "b", outcomes: { k2: "boom", k3: "done", k4: "done" } });
  await settle(t.db, { jobId: "j", stage: "c", outcomes: { k3: "boom", k4: "done" } });
  assertEquals(await t.db.stuckBehindFailures({ jobId: "j" }), [
    { stage: "a", items: 1 },
    { stage: "b", items: 1 },
  ]);
});

Deno.test("addMissingStageRows() adds a new stage's rows, claimable where the previous is done", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(3) });
  await settle(t.db, { jobId: "j", stage: "a", outcomes: { k1: "done", k2: "boom", k3: "done" } });
  const stages = ["a", "b"];
  assertEquals(await t.db.stageRowGaps({ jobId: "j", stages }), {
    unknownStages: ["b"],
    removedStages: [],
    missingRows: 3,
  });
  assertEquals(await t.db.addMissingStageRows({ jobId: "j", stages }), 3);
  assertEquals(await t.db.stageRowGaps({ jobId: "j", stages }), {
    unknownStages: [],
    removedStages: [],
    missingRows: 0,
  });
  const rows = (await t.db.listItems({ jobId: "j" })).map((i) => i.stages.map((s) => s.status));
  assertEquals(rows, [["done", "pending"], ["failed", "pending"], ["done", "pending"]]);
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "b",
    runId: "r",
    limit: 10,
    leaseMs: 1000,
  });
  assertEquals(claims.map((c) => c.key), ["k1", "k3"]);
  assertEquals(await t.db.addMissingStageRows({ jobId: "j", stages }), 0);
});

Deno.test("addMissingStageRows() refuses, changing nothing, when a stored stage was removed", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(2) });
  assertEquals(await t.db.stageRowGaps({ jobId: "j", stages: ["b", "c"] }), {
    unknownStages: ["c"],
    removedStages: ["a"],
    missingRows: 2,
  });
  assertEquals(await t.db.addMissingStageRows({ jobId: "j", stages: ["b", "c"] }), null);
  const rows = (await t.db.listItems({ jobId: "j" })).map((i) => i.stages.map((s) => s.stage));
  assertEquals(rows, [["a", "b"], ["a", "b"]]);
});

Deno.test("stageRowGaps() finds nothing missing for a job without items", async () => {
  await using t = await tempDb();
  assertEquals(await t.db.stageRowGaps({ jobId: "new", stages: ["a"] }), {
    unknownStages: [],
    removedStages: [],
    missingRows: 0,
  });
});
