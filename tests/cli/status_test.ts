import { deepStrictEqual as assertEquals, doesNotMatch, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { openDb } from "../../src/db/mod.ts";
import { collectStatus, type StatusReport } from "../../src/status/report.ts";
import { jobs, workspace } from "./_seed.ts";

Deno.test("jobs status --json prints what collectStatus() computes, with the seeded counts", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["status", "--json"]);
  equal(out.stderr, "");
  equal(out.code, 0);
  const report: StatusReport = JSON.parse(out.stdout);
  const [feed, notes] = report.jobs;
  assertEquals(feed.items, { total: 10, pending: 4, inProgress: 1, done: 3, failed: 2 });
  assertEquals(
    feed.stages.map((s) => [
      s.stage,
      s.pending,
      s.inProgress,
      s.done,
      s.failed,
      s.skipped,
      s.stale,
      s.finishedLastHour,
    ]),
    [["fetch", 1, 0, 8, 1, 0, 0, 5], ["parse", 2, 1, 5, 1, 1, 3, 7], [
      "store",
      7,
      0,
      3,
      0,
      0,
      0,
      3,
    ]],
  );
  assertEquals(feed.cost, { todayUsd: 2.25, budgetUsd: 3, budgetUsed: 0.75 });
  assertEquals([notes.paused, notes.pauseReason], [true, "disk full"]);
  const config = await loadConfig(join(w.dir, "jobs.yaml"));
  const db = await openDb(w.dbPath);
  try {
    assertEquals(report, await collectStatus(db, config, { now: report.generatedAt }));
  } finally {
    await db.close();
  }
});

Deno.test("jobs status prints a block per job with a stage table", async () => {
  await using w = await workspace();
  const out = await jobs(w.dir, ["status"]);
  equal(out.code, 0);
  const [feed, notes] = out.stdout.split("\n\n");
  const lines = feed.split("\n");
  equal(lines[0], "feed — Fetch and parse the posts");
  equal(lines[1], "  items      10: 3 done, 2 failed, 1 in progress, 4 pending");
  match(
    lines[2],
    /^ {2}discovery {2}static every 1h; last \S+ \S+Z \(30m ago\); next due \S+ \S+Z \(in \d+m\)$/,
  );
  match(
    lines[3],
    /^ {2}schedule {3}\*\/15 \* \* \* \*; last run \S+ \S+Z \(30m ago\); run due since /,
  );
  equal(lines[4], "  cost today $2.25 of $3.00 daily budget (75%)");
  assertEquals(lines.slice(5), [
    "  stage  pending  in progress  done  failed  skipped  stale  last hour",
    "  fetch        1            0     8       1        0      0          5",
    "  parse        2            1     5       1        1      3          7",
    "  store        7            0     3       0        0      0          3",
  ]);
  match(notes, /^notes {2}\[PAUSED since \S+ \S+Z: disk full\]\n/);
  match(notes, /\n {2}discovery {2}static; last never; discovers at every run\n/);
  match(notes, /\n {2}cost today \$0\.00 \(no daily budget\)\n/);
});

Deno.test("jobs status -j shows only the named jobs; an unknown one exits 2 listing the jobs", async () => {
  await using w = await workspace();
  const one = await jobs(w.dir, ["status", "-j", "notes", "--json"]);
  equal(one.code, 0);
  assertEquals(JSON.parse(one.stdout).jobs.map((j: { jobId: string }) => j.jobId), ["notes"]);
  const bad = await jobs(w.dir, ["status", "-j", "nope"]);
  equal(bad.code, 2);
  equal(bad.stdout, "");
  match(bad.stderr, /^Unknown job "nope"; jobs in \S+jobs\.yaml: feed, notes\n$/);
});

Deno.test("jobs status before any run shows zeros and creates no database", async () => {
  await using w = await workspace({ seed: false });
  const out = await jobs(w.dir, ["status", "--json"]);
  equal(out.code, 0);
  const report: StatusReport = JSON.parse(out.stdout);
  assertEquals(report.jobs.map((j) => [j.jobId, j.items.total, j.discovery.due]), [
    ["feed", 0, true],
    ["notes", 0, true],
  ]);
  equal(await Deno.stat(w.dbPath).then(() => true, () => false), false);
});

Deno.test("jobs status rejects an unknown flag and a stray argument with exit 2", async () => {
  await using w = await workspace({ seed: false });
  for (const args of [["status", "--frobnicate"], ["status", "feed"]]) {
    const out = await jobs(w.dir, args);
    equal(out.code, 2);
    match(out.stderr, /^jobs status: /);
    doesNotMatch(out.stderr, /\n\s+at /);
  }
});
