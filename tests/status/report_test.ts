import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { openDb } from "../../src/db/mod.ts";

import { collectStatus, type JobStatus } from "../../src/status/report.ts";
import { HOUR, MINUTE, workspace } from "../cli/_seed.ts";

const QUARTER = 15 * MINUTE;

/** The first quarter-hour strictly after `t`, as croner gives the next tick of "*\/15 * * * *". */
function nextQuarter(t: number): number {
  return Math.floor(t / QUARTER) * QUARTER + QUARTER;
}

Deno.test("collectStatus() reports every figure of the seeded jobs", async () => {
  await using w = await workspace();
  const config = await loadConfig(join(w.dir, "jobs.yaml"));
  const db = await openDb(w.dbPath);
  try {
    const report = await collectStatus(db, config, { now: w.now });
    const feed: JobStatus = {
      jobId: "feed",
      description: "Fetch and parse the posts",
      paused: false,
      pauseReason: null,
      pausedAt: null,
      lastRunAt: w.now - 30 * MINUTE,
      items: { total: 10, pending: 4, inProgress: 1, done: 3, failed: 2 },
      stages: [
        {
          stage: "fetch",
          pending: 1,
          blocked: 0,
          inProgress: 0,
          done: 8,
          failed: 1,
          skipped: 0,
          stale: 0,
          finishedLastHour: 5,
        },
        {
          stage: "parse",
          // k9 failed at fetch: its parse row is blocked, not pending.
          pending: 1,
          blocked: 1,
          inProgress: 1,
          done: 5,
          failed: 1,
          skipped: 1,
          stale: 3,
          finishedLastHour: 7,
        },
        {
          stage: "store",
          // k9 failed at fetch, k7 at parse.
          pending: 5,
          blocked: 2,
          inProgress: 0,
          done: 3,
          failed: 0,
          skipped: 0,
          stale: 0,
          finishedLastHour: 3,
        },
      ],
      discovery: {
        strategy: "static",
        everyMs: HOUR,
        schedule: "*/15 * * * *",
        lastDiscoveryAt: w.now - 30 * MINUTE,
        wakeRequestedAt: null,
        nextRunAt: nextQuarter(w.now - 30 * MINUTE),
        // The first tick once `every` has passed since the last discovery.
        nextDueAt: nextQuarter(w.now + 30 * MINUTE - 1),
        due: false,
        held: [],
      },
      cost: { todayUsd: 2.25, budgetUsd: 3, budgetUsed: 0.75 },
      stale: 3,
      finishedLastHour: 15,
    };
    const notes: JobStatus = {
      jobId: "notes",
      description: null,
      paused: true,
      pauseReason: "disk full",
      pausedAt: w.now - HOUR,
      lastRunAt: null,
      items: { total: 2, pending: 2, inProgress: 0, done: 0, failed: 0 },
      stages: [{
        stage: "tag",
        pending: 2,
        blocked: 0,
        inProgress: 0,
        done: 0,
        failed: 0,
        skipped: 0,
        stale: 0,
        finishedLastHour: 0,
      }],
      discovery: {
        strategy: "static",
        everyMs: null,
        schedule: null,
        lastDiscoveryAt: null,
        wakeRequestedAt: null,
        nextRunAt: null,
        nextDueAt: null,
        due: true,
        held: [],
      },
      cost: { todayUsd: 0, budgetUsd: null, budgetUsed: null },
      stale: 0,
      finishedLastHour: 0,
    };
    assertEquals(report, { generatedAt: w.now, jobs: [feed, notes] });
    const one = await collectStatus(db, config, { jobIds: ["notes"], now: w.now });
    assertEquals(one.jobs.map((j) => j.jobId), ["notes"]);
  } finally {
    await db.close();
  }
});

Deno.test("collectStatus() makes a woken job due at its next scheduled run", async () => {
  await using w = await workspace();
  const config = await loadConfig(join(w.dir, "jobs.yaml"));
  const db = await openDb(w.dbPath);
  try {
    await db.wakeJob("feed", w.now);
    const [feed] = (await collectStatus(db, config, { jobIds: ["feed"], now: w.now })).jobs;
    const tick = nextQuarter(w.now - 30 * MINUTE);
    assertEquals(feed.discovery.wakeRequestedAt, w.now);
    assertEquals([feed.discovery.nextRunAt, feed.discovery.nextDueAt], [tick, tick]);
    assertEquals(feed.discovery.due, tick <= w.now);
    // A run after the tick: the next run, and the discovery, wait for the next tick.
    await db.markJobRun({ jobId: "feed", now: w.now });
    const [later] = (await collectStatus(db, config, { jobIds: ["feed"], now: w.now })).jobs;
    assertEquals(
      [later.discovery.nextDueAt, later.discovery.due],
      [nextQuarter(w.now), false],
    );
  } finally {
    await db.close();
  }
});

Deno.test("collectStatus() of jobs that never ran: zero counts, discovery due now", async () => {
  await using w = await workspace({ seed: false });
  const config = await loadConfig(join(w.dir, "jobs.yaml"));
  const db = await openDb(w.dbPath);
  try {
    const [feed] = (await collectStatus(db, config, { now: w.now })).jobs;
    assertEquals(feed.items, { total: 0, pending: 0, inProgress: 0, done: 0, failed: 0 });
    assertEquals(feed.stages.map((s) => [s.stage, s.pending, s.done]), [
      ["fetch", 0, 0],
      ["parse", 0, 0],
      ["store", 0, 0],
    ]);
    assertEquals(feed.discovery.nextRunAt, w.now);
    assertEquals([feed.discovery.nextDueAt, feed.discovery.due], [w.now, true]);
    await rejects(
      collectStatus(db, config, { jobIds: ["nope"] }),
      { name: "UsageError", message: /^Unknown job "nope"; jobs in .*jobs\.yaml: feed, notes$/ },
    );
  } finally {
    await db.close();
  }
});
