import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const T0 = Date.UTC(2026, 2, 10);

async function failAll(db: Store, runId: string, keys: number, now: () => number) {
  const claims = await db.claimBatch({
    jobId: "j",
    stage: "s",
    runId,
    limit: keys,
    leaseMs: 60_000,
    now,
  });
  return await db.markFailed({
    jobId: "j",
    runId,
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage: "s",
      error: `bad ${c.key}`,
      permanent: true,
      retries: 0,
      backoffMs: 1000,
    })),
    now,
  });
}

/** The outbox without ids and times, for exact comparisons. */
async function outbox(db: Store) {
  return (await db.pendingAlerts()).map((a) => ({
    jobId: a.jobId,
    kind: a.kind,
    message: a.message,
    count: a.count,
    data: a.data,
    delivered: a.delivered,
    attempts: a.attempts,
  }));
}

Deno.test("permanent failures queue one alert per run and stage, with counts and examples", async () => {
  await using t = await tempDb();
  const clock = fakeClock(T0);
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(9), now: clock.now });
  await failAll(t.db, "r1", 3, clock.now);
  await failAll(t.db, "r1", 4, clock.now);
  await failAll(t.db, "r2", 2, clock.now);
  const examples = (keys: number[]) => keys.map((k) => ({ key: `k${k}`, error: `bad k${k}` }));
  assertEquals(await outbox(t.db), [
    {
      jobId: "j",
      kind: "failed",
      message: "bad k1",
      count: 7,
      data: { stage: "s", runId: "r1", examples: examples([1, 2, 3, 4, 5]) },
      delivered: [],
      attempts: 0,
    },
    {
      jobId: "j",
      kind: "failed",
      message: "bad k8",
      count: 2,
      data: { stage: "s", runId: "r2", examples: examples([8, 9]) },
      delivered: [],
      attempts: 0,
    },
  ]);
});

Deno.test("a retried attempt queues no alert", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(1) });
  const [c] = await t.db.claimBatch({ jobId: "j", stage: "s", runId: "r", limit: 1, leaseMs: 1e4 });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{
      itemId: c.itemId,
      stage: "s",
      error: "x",
      permanent: false,
      retries: 3,
      backoffMs: 1,
    }],
  });
  assertEquals(await outbox(t.db), []);
});

Deno.test("pauses, alerting events and discoveries queue their alerts with what caused them", async () => {
  await using t = await tempDb();
  const clock = fakeClock(T0);
  await t.db.setJobPaused({ jobId: "j", paused: true, reason: "by hand", now: clock.now });
  await t.db.setJobPaused({
    jobId: "j",
    paused: true,
    reason: "5 consecutive failed attempts",
    alert: true,
    now: clock.now,
  });
  await t.db.logEvent({ jobId: "j", kind: "budget", message: "budget reached", alert: "budget" });
  const finish = async (succeeded: boolean, newItems = 0) => {
    await t.db.acquireDiscoveryLease({ jobId: "j", owner: "o", leaseMs: 1000, now: clock.now });
    await t.db.finishDiscovery({
      jobId: "j",
      owner: "o",
      succeeded,
      newItems,
      error: succeeded ? undefined : "HTTP 500",
      alertAfterFailures: 2,
      expectNewWithinMs: 86_400_000,
      now: clock.now,
    });
  };
  await finish(true, 3);
  await finish(false);
  await finish(false);
  clock.advance(2 * 86_400_000);
  await finish(true);
  const state = await t.db.getJobState("j");
  assertEquals(
    [state.discoveryFailures, state.discoveryFailuresTotal, state.lastNewItemAt],
    [0, 2, T0],
  );
  assertEquals((await outbox(t.db)).map((a) => [a.kind, a.message]), [
    ["paused", "5 consecutive failed attempts"],
    ["budget", "budget reached"],
    ["discovery_failing", "discovery failed 2 times in a row; last: HTTP 500"],
    ["silent", "no new item for 2d (expected within 1d)"],
  ]);
  assertEquals((await t.db.getEvents({ kind: "budget" })).length, 1);
});

Deno.test("settleAlerts() keeps what a target still lacks, removes the rest and starts cooldowns", async () => {
  await using t = await tempDb();
  const clock = fakeClock(T0);
  for (const kind of ["budget", "silent"] as const) {
    await t.db.logEvent({ jobId: "j", kind: "note", message: kind, alert: kind, ts: T0 });
  }
  const [budget, silent] = await t.db.pendingAlerts();
  clock.advance(1000);
  await t.db.settleAlerts({
    released: [{ jobId: "j", kind: "budget" }, { jobId: "j", kind: "silent" }],
    alerts: [
      { id: budget.id, delivered: ["a", "b"], done: true },
      { id: silent.id, delivered: ["a"], done: false, error: "b: HTTP 503" },
    ],
    now: clock.now,
  });
  const left = await t.db.pendingAlerts();
  assertEquals(
    left.map((a) => [a.id, a.delivered, a.attempts, a.lastError]),
    [[silent.id, ["a"], 1, "b: HTTP 503"]],
  );
  assertEquals(
    (await t.db.alertCooldowns()).sort((a, b) => a.kind < b.kind ? -1 : 1),
    [
      { jobId: "j", kind: "budget", releasedAt: T0 + 1000 },
      { jobId: "j", kind: "silent", releasedAt: T0 + 1000 },
    ],
  );
});
