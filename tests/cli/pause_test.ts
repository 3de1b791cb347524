import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import { openDb } from "../../src/db/mod.ts";

import { jobs, workspace } from "./_seed.ts";

Deno.test("jobs pause records the reason, logs an event and stops claims", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["pause", "-j", "feed", "--reason", "rate limited"]);
  assertEquals([out.code, out.stdout, out.stderr], [0, "Paused feed: rate limited\n", ""]);
  const db = await openDb(w.dbPath);
  try {
    const state = await db.getJobState("feed");
    assertEquals([state.paused, state.pauseReason], [true, "rate limited"]);
    const [event] = await db.getEvents({ jobId: "feed", kind: "pause" });
    equal(event.message, "rate limited");
    const claims = await db.claimBatch({
      jobId: "feed",
      stage: "store",
      runId: "r9",
      limit: 10,
      leaseMs: 1000,
    });
    assertEquals(claims, []);
  } finally {
    await db.close();
  }
});

Deno.test("jobs pause --json prints the pause state, with a default reason", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["pause", "-j", "feed", "--json"]);
  equal(out.code, 0);
  assertEquals(JSON.parse(out.stdout), {
    jobId: "feed",
    paused: true,
    pauseReason: "paused by operator",
  });
});

Deno.test("jobs pause needs a known job: exit 2 otherwise", async () => {
  await using w = await workspace({ seed: false });
  const none = await jobs(w.dir, ["pause"]);
  assertEquals([none.code, none.stderr], [2, "jobs pause needs a job: jobs pause -j JOB\n"]);
  const unknown = await jobs(w.dir, ["pause", "-j", "nope"]);
  equal(unknown.code, 2);
  match(unknown.stderr, /^Unknown job "nope"; jobs in \S+: feed, notes\n$/);
  const flag = await jobs(w.dir, ["pause", "-j", "feed", "--reason"]);
  equal(flag.code, 2);
  match(flag.stderr, /^jobs pause: .*--reason/);
});
