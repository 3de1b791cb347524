import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { jobs, workspace } from "./_seed.ts";

Deno.test("jobs unpause clears the pause and logs an event", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["unpause", "-j", "notes"]);
  assertEquals([out.code, out.stdout, out.stderr], [0, "Unpaused notes\n", ""]);
  const db = await openDb(w.dbPath);
  try {
    const state = await db.getJobState("notes");
    assertEquals([state.paused, state.pauseReason, state.pausedAt], [false, null, null]);
    equal((await db.getEvents({ jobId: "notes", kind: "unpause" })).length, 1);
  } finally {
    await db.close();
  }
});

Deno.test("jobs unpause of a job that is not paused changes nothing", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["unpause", "-j", "feed", "--json"]);
  equal(out.code, 0);
  assertEquals(JSON.parse(out.stdout), { jobId: "feed", paused: false, wasPaused: false });
  const text = await jobs(w.dir, ["unpause", "-j", "feed"]);
  equal(text.stdout, "feed is not paused\n");
  const db = await openDb(w.dbPath);
  try {
    assertEquals(await db.getEvents({ kind: "unpause" }), []);
  } finally {
    await db.close();
  }
});

Deno.test("jobs unpause without a job exits 2", async () => {
  await using w = await workspace({ seed: false });
  const out = await jobs(w.dir, ["unpause"]);
  assertEquals([out.code, out.stderr], [2, "jobs unpause needs a job: jobs unpause -j JOB\n"]);
});
