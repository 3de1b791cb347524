import { deepStrictEqual as assertEquals, equal, ok } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { jobs, workspace } from "./_seed.ts";

Deno.test("jobs wake records a wake request that makes jobs status show the job woken", async () => {
  await using w = await workspace();
  const before = Date.now();
  const out = await jobs(w.dir, ["wake", "-j", "feed"]);
  assertEquals([out.code, out.stdout, out.stderr], [
    0,
    "Woke feed: the next run discovers now\n",
    "",
  ]);
  const db = await openDb(w.dbPath);
  let wokenAt: number | null;
  try {
    wokenAt = (await db.getJobState("feed")).wakeRequestedAt;
    ok(wokenAt !== null && wokenAt >= before && wokenAt <= Date.now());
    equal((await db.getEvents({ jobId: "feed", kind: "wake" })).length, 1);
  } finally {
    await db.close();
  }
  const status = await jobs(w.dir, ["status", "-j", "feed", "--json"]);
  equal(JSON.parse(status.stdout).jobs[0].discovery.wakeRequestedAt, wokenAt);
  const text = await jobs(w.dir, ["status", "-j", "feed"]);
  ok(text.stdout.includes("; woken: discovers at the next run\n"));
});

Deno.test("jobs wake --json prints the time of the request; no job exits 2", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["wake", "-j", "notes", "--json"]);
  const printed = JSON.parse(out.stdout);
  equal(printed.jobId, "notes");
  const db = await openDb(w.dbPath);
  try {
    equal((await db.getJobState("notes")).wakeRequestedAt, printed.wakeRequestedAt);
  } finally {
    await db.close();
  }
  const none = await jobs(w.dir, ["wake"]);
  assertEquals([none.code, none.stderr], [2, "jobs wake needs a job: jobs wake -j JOB\n"]);
});
