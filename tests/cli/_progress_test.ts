/**
 * The progress of a run as `jobctl run` shows it, read from a real store with an injected clock:
 * rates over the last minute, a finished stage's final average, running handlers.
 */
import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { JobConfig } from "../../src/config/types.ts";

import { ProgressReader } from "../../src/cli/_progress.ts";
import { progressLine, progressTable } from "../../src/cli/_progress_view.ts";
import { RunActivity } from "../../src/runner/activity.ts";
import { tempDb } from "../db/_helpers.ts";

const SECOND = 1000;

/** A store with 1,000 items of job "feed" (stages s and t), a clock and the reader. */
async function setup() {
  const store = await tempDb();
  const db = store.db;
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => now += ms };
  await db.upsertItems({
    jobId: "feed",
    stages: ["s", "t"],
    items: Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, data: {} })),
    now: clock.now,
  });
  const activity = new RunActivity();
  const jobs = [{ id: "feed" }] as JobConfig[];
  const reader = new ProgressReader(db, jobs, { activity, now: clock.now });
  return {
    db,
    clock,
    activity,
    reader,
    [Symbol.asyncDispose]: () => store[Symbol.asyncDispose](),
  };
}

/** Claims `claimed` rows of stage s and records `done` of them as done. */
async function work(db: Store, now: () => number, claimed: number, done: number): Promise<void> {
  const claims = await db.claimBatch({
    jobId: "feed",
    stage: "s",
    runId: "r1",
    limit: claimed,
    leaseMs: 600 * SECOND,
    now,
  });
  await db.markDone({
    jobId: "feed",
    runId: "r1",
    items: claims.slice(0, done).map((c) => ({
      itemId: c.itemId,
      stage: "s",
      position: c.position,
      result: null,
      handlerVersion: null,
    })),
    now,
  });
}

Deno.test("the first progress line after 30 s shows the rate of those 30 s", async () => {
  await using t = await setup();
  await t.reader.read();
  await work(t.db, t.clock.now, 560, 540);
  t.activity.handlerStarted("feed", "s");
  t.activity.handlerStarted("feed", "s");
  t.clock.advance(30 * SECOND);
  const [s, next] = await t.reader.read();
  // 540 in 30 s; 20 claimed, of which 2 run and 18 wait for a handler.
  assertEquals(
    progressLine(s),
    "feed/s: 540 done, 0 failed, 0 skipped, 2 running, 458 pending, 18.0/s, ETA 25s",
  );
  assertEquals(
    progressLine(next),
    "feed/t: 0 done, 0 failed, 0 skipped, 0 running, 1,000 pending, 0.0/s, ETA -",
  );
});

Deno.test("a running stage's rate spans the last minute", async () => {
  await using t = await setup();
  await t.reader.read();
  await work(t.db, t.clock.now, 600, 600);
  for (let i = 0; i < 3; i++) {
    t.clock.advance(30 * SECOND);
    await t.reader.read();
  }
  // Nothing finished since 30 s: the last minute (30 s → 90 s) holds none of the 600.
  assertEquals((await t.reader.read())[0].rate, 0);
  await work(t.db, t.clock.now, 120, 120);
  t.clock.advance(30 * SECOND);
  assertEquals((await t.reader.read())[0].rate, 2);
});

Deno.test("a stage whose worker ended shows its average over the run, which does not decay", async () => {
  await using t = await setup();
  await t.reader.read();
  await work(t.db, t.clock.now, 1000, 1000);
  t.clock.advance(40 * SECOND);
  t.activity.workerEnded("feed", "s", t.clock.now());
  t.clock.advance(20 * SECOND);
  const [ended] = await t.reader.read();
  assertEquals([ended.rate, ended.ended], [25, true]);
  t.clock.advance(10 * 60 * SECOND);
  const [later, waiting] = await t.reader.read();
  assertEquals(
    progressLine(later),
    "feed/s: 1,000 done, 0 failed, 0 skipped, 0 running, 0 pending, 25.0/s, ETA done",
  );
  assertEquals(progressTable([later, waiting]), [
    "job   stage   done  failed  skipped  running  pending  rate    ETA",
    "feed  s      1,000       0        0        0        0  25.0/s  done",
    "feed  t          0       0        0        0    1,000  0.0/s   -",
  ]);
});

Deno.test("a stage first seen after the start counts from zero at the start", async () => {
  await using t = await setup();
  const reader = new ProgressReader(t.db, [{ id: "feed" }, { id: "late" }] as JobConfig[], {
    activity: t.activity,
    now: t.clock.now,
  });
  assertEquals((await reader.read()).map((s) => s.job), ["feed", "feed"]);
  await t.db.upsertItems({
    jobId: "late",
    stages: ["only"],
    items: [{ key: "a", data: {} }, { key: "b", data: {} }],
    now: t.clock.now,
  });
  const [claim] = await t.db.claimBatch({
    jobId: "late",
    stage: "only",
    runId: "r1",
    limit: 1,
    leaseMs: 60 * SECOND,
    now: t.clock.now,
  });
  await t.db.markDone({
    jobId: "late",
    runId: "r1",
    items: [{ ...claim, result: null, handlerVersion: null }],
    now: t.clock.now,
  });
  t.clock.advance(2 * SECOND);
  const late = (await reader.read()).find((s) => s.job === "late")!;
  assertEquals([late.done, late.pending, late.rate], [1, 1, 0.5]);
});

Deno.test("slower rates are written per minute or per hour", async () => {
  await using t = await setup();
  await t.reader.read();
  await work(t.db, t.clock.now, 3, 3);
  t.clock.advance(60 * SECOND);
  assertEquals(progressLine((await t.reader.read())[0]).match(/, ([^,]+), ETA (.+)$/)?.slice(1), [
    "3.0/min",
    "5h32m",
  ]);
});
