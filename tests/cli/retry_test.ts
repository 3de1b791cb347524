import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { jobs, workspace } from "./_seed.ts";

async function failedRows(dbPath: string): Promise<string[][]> {
  const db = await openDb(dbPath);
  try {
    return (await db.listItems({ jobId: "feed" })).flatMap((item) =>
      item.stages.filter((s) => s.status === "failed").map((s) => [item.key, s.stage])
    );
  } finally {
    await db.close();
  }
}

Deno.test("jobs retry resets matching failed stages to pending with attempts 0", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["retry", "-j", "feed", "--stage", "fetch", "--error", "HTTP 500"]);
  assertEquals([out.code, out.stdout, out.stderr], [
    0,
    "Reset 1 failed stage of feed to pending; the next run processes them\n",
    "",
  ]);
  assertEquals(await failedRows(w.dbPath), [["k7", "parse"]]);
  const db = await openDb(w.dbPath);
  try {
    const [k9] = await db.listItems({ jobId: "feed", error: "HTTP", limit: 1 });
    equal(k9, undefined);
    const fetch = (await db.listItems({ jobId: "feed" }))[8].stages[0];
    assertEquals(fetch, { stage: "fetch", status: "pending", attempts: 0, error: null });
    const [event] = await db.getEvents({ kind: "retry_failed" });
    assertEquals([event.jobId, event.stage, event.message], [
      "feed",
      "fetch",
      "reset 1 failed stage to pending",
    ]);
  } finally {
    await db.close();
  }
});

Deno.test("jobs retry by item, then of everything left; nothing left says so", async () => {
  await using w = await workspace();
  const item = await jobs(w.dir, ["retry", "-j", "feed", "--item", "k7", "--json"]);
  assertEquals(JSON.parse(item.stdout), { jobId: "feed", reset: 1 });
  assertEquals(await failedRows(w.dbPath), [["k9", "fetch"]]);
  const rest = await jobs(w.dir, ["retry", "-j", "feed", "--json"]);
  assertEquals(JSON.parse(rest.stdout), { jobId: "feed", reset: 1 });
  const none = await jobs(w.dir, ["retry", "-j", "feed"]);
  assertEquals([none.code, none.stdout], [0, "No failed stages of feed match\n"]);
});

Deno.test("jobs retry rejects an unknown stage (exit 2) and an unknown item (exit 1)", async () => {
  await using w = await workspace();
  const stage = await jobs(w.dir, ["retry", "-j", "feed", "--stage", "nope"]);
  assertEquals([stage.code, stage.stderr], [
    2,
    'Unknown stage "nope" of job "feed"; its stages: fetch, parse, store\n',
  ]);
  const item = await jobs(w.dir, ["retry", "-j", "feed", "--item", "nope"]);
  assertEquals([item.code, item.stderr], [1, 'No item "nope" in job "feed"\n']);
  const none = await jobs(w.dir, ["retry", "--stage", "fetch"]);
  assertEquals([none.code, none.stderr], [2, "jobs retry needs a job: jobs retry -j JOB\n"]);
  assertEquals(await failedRows(w.dbPath), [["k7", "parse"], ["k9", "fetch"]]);
});
