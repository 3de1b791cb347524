import { deepStrictEqual as assertEquals, equal } from "node:assert/strict";

import { openDb } from "../../src/db/mod.ts";
import { HOUR, jobs, workspace } from "./_seed.ts";

function day(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

Deno.test("jobctl costs --json gives cost per day, job and stage, newest day first", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["costs", "--json"]);
  equal(out.code, 0, out.stderr);
  const today = day(w.now);
  const yesterday = day(w.now - 24 * HOUR);
  assertEquals(JSON.parse(out.stdout), {
    days: 30,
    totalUsd: 2.75,
    rows: [
      { day: today, jobId: "feed", stage: "fetch", usd: 1, events: 8 },
      { day: today, jobId: "feed", stage: "parse", usd: 1.25, events: 5 },
      { day: yesterday, jobId: "feed", stage: "fetch", usd: 0.5, events: 1 },
    ],
  });
});

Deno.test("jobctl costs --days 1 prints today's table and total", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["costs", "--days", "1", "-j", "feed"]);
  equal(out.code, 0);
  const today = day(w.now);
  equal(
    out.stdout,
    "day         job   stage  cost   events\n" +
      `${today}  feed  fetch  $1.00       8\n` +
      `${today}  feed  parse  $1.25       5\n` +
      "\n$2.25 today (UTC)\n",
  );
  const none = await jobs(w.dir, ["costs", "-j", "notes"]);
  equal(none.stdout, "No costs recorded in the last 30 days (UTC)\n");
});

Deno.test("jobctl costs rejects a bad --days and an unknown job with exit 2", async () => {
  await using w = await workspace({ seed: false });
  const days = await jobs(w.dir, ["costs", "--days", "week"]);
  assertEquals([days.code, days.stderr], [
    2,
    '--days expects a positive whole number, got "week"\n',
  ]);
  const job = await jobs(w.dir, ["costs", "-j", "nope"]);
  equal(job.code, 2);
});

Deno.test("jobctl costs, events and status write a cost with float noise rounded: $0.025", async () => {
  await using w = await workspace();
  const db = await openDb(w.dbPath);
  await db.logCost({ jobId: "notes", stage: "tag", usd: 0.024999999999999998, ts: w.now });
  await db.close();
  const costs = await jobs(w.dir, ["costs", "-j", "notes", "--days", "1"]);
  equal(costs.stdout.split("\n")[1], `${day(w.now)}  notes  tag    $0.025       1`);
  const events = await jobs(w.dir, ["events", "-j", "notes", "--kind", "cost"]);
  equal(events.stdout.replace(/^\S+ \S+Z {2}/, ""), "notes  cost  tag  $0.025\n");
  const status = await jobs(w.dir, ["status", "-j", "notes"]);
  equal(status.stdout.split("\n")[3], "  cost today $0.025 (no daily budget)");
});
