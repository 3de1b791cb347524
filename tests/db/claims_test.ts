import { type Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, makeItems, resultOf, tempDb } from "./_helpers.ts";

const STAGES = ["fetch", "parse", "store"];
const LEASE = 60_000;

function claim(db: Store, stage: string, now: () => number, runId = "r1", limit = 100) {
  return db.claimBatch({ jobId: "j", stage, runId, limit, leaseMs: LEASE, now });
}

function done(db: Store, itemIds: number[], stage: string, now: () => number, runId = "r1") {
  const position = STAGES.indexOf(stage);
  return db.markDone({
    jobId: "j",
    runId,
    items: itemIds.map((itemId) => ({
      itemId,
      stage,
      position,
      result: { stage, itemId },
      handlerVersion: "v1",
    })),
    now,
  });
}

function fail(
  db: Store,
  itemIds: number[],
  stage: string,
  opts: { now: () => number; permanent?: boolean; retries?: number; random?: () => number },
) {
  return db.markFailed({
    jobId: "j",
    runId: "r1",
    items: itemIds.map((itemId) => ({
      itemId,
      stage,
      error: `boom ${itemId}`,
      permanent: opts.permanent ?? false,
      retries: opts.retries ?? 3,
      backoffMs: 1000,
    })),
    now: opts.now,
    random: opts.random ?? (() => 0.5),
  });
}

async function stagesOf(db: Store, key: string) {
  const [item] = (await db.listItems({ jobId: "j", limit: 1000 })).filter((i) => i.key === key);
  return item.stages.map((s) => [s.stage, s.status, s.attempts]);
}

Deno.test("claimBatch() sets in_progress with attempts 1 and hands out each row once", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(5) });
  const first = await claim(t.db, "fetch", clock.now, "r1", 3);
  assertEquals(first.map((c) => [c.key, c.stage, c.position, c.attempts]), [
    ["k1", "fetch", 0, 1],
    ["k2", "fetch", 0, 1],
    ["k3", "fetch", 0, 1],
  ]);
  assertEquals(first[0].data, { n: 1 });
  assertEquals(first[0].results, {});
  const second = await claim(t.db, "fetch", clock.now, "r2", 10);
  assertEquals(second.map((c) => c.key).sort(), ["k4", "k5"]);
  assertEquals(await claim(t.db, "fetch", clock.now, "r3", 10), []);
  const stats = await t.db.stageStats("j");
  assertEquals(stats.map((s) => [s.stage, s.pending, s.inProgress]), [
    ["fetch", 0, 5],
    ["parse", 5, 0],
    ["store", 5, 0],
  ]);
});

Deno.test("markDone() stores the result with its handler version and readies the next stage", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(2) });
  const [a] = await claim(t.db, "fetch", clock.now, "r1", 1);
  assertEquals(await claim(t.db, "parse", clock.now), []);
  clock.advance(250);
  assertEquals(await done(t.db, [a.itemId], "fetch", clock.now), 1);
  const stored = await resultOf(t.db, a.itemId, "fetch");
  assertEquals(stored, {
    itemId: a.itemId,
    stage: "fetch",
    handlerVersion: "v1",
    result: { stage: "fetch", itemId: a.itemId },
    createdAt: clock.now(),
  });
  const next = await claim(t.db, "parse", clock.now);
  assertEquals(next.map((c) => [c.key, c.attempts, c.results]), [
    ["k1", 1, { fetch: { stage: "fetch", itemId: a.itemId } }],
  ]);
  assertEquals(await stagesOf(t.db, "k1"), [
    ["fetch", "done", 1],
    ["parse", "in_progress", 1],
    ["store", "pending", 0],
  ]);
});

Deno.test("a stage is claimable only when the previous stage is done or skipped", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  // k1 fetch pending, k2 in_progress, k3 failed, k4 retry-pending, k5 done, k6 skipped.
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(6) });
  const claims = await claim(t.db, "fetch", clock.now);
  const id = (key: string) => claims.find((c) => c.key === key)!.itemId;
  await fail(t.db, [id("k3")], "fetch", { now: clock.now, permanent: true });
  await fail(t.db, [id("k4")], "fetch", { now: clock.now });
  await done(t.db, [id("k5")], "fetch", clock.now);
  await t.db.markSkipped({
    jobId: "j",
    runId: "r1",
    items: [{ itemId: id("k6"), stage: "fetch", position: 0, reason: "not an article" }],
    now: clock.now,
  });
  // k1 was claimed with the rest; give it back so its fetch is pending again.
  await t.db.releaseClaims({ runId: "r1", items: [{ itemId: id("k1"), stage: "fetch" }] });
  clock.advance(10_000_000);
  const parse = await claim(t.db, "parse", clock.now, "r2");
  const byKey = parse.map((c) => [c.key, Object.keys(c.results)]).sort();
  assertEquals(byKey, [["k5", ["fetch"]], ["k6", []]]);
  assertEquals(await claim(t.db, "store", clock.now, "r2"), []);
});

Deno.test("a retry goes back to pending with run_after = now + backoff × 2^(attempts-1) × jitter", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [c1] = await claim(t.db, "fetch", clock.now);
  const start = clock.now();
  const r1 = await fail(t.db, [c1.itemId], "fetch", { now: clock.now, random: () => 0.5 });
  assertEquals(r1.outcomes, [
    { itemId: c1.itemId, stage: "fetch", status: "pending", runAfter: start + 1000 },
  ]);
  // Not due before run_after.
  clock.advance(999);
  assertEquals(await claim(t.db, "fetch", clock.now), []);
  clock.advance(1);
  const [c2] = await claim(t.db, "fetch", clock.now);
  assertEquals(c2.attempts, 2);
  const r2 = await fail(t.db, [c2.itemId], "fetch", { now: clock.now, random: () => 0 });
  // 1000 × 2^1 × 0.8
  assertEquals(r2.outcomes[0].runAfter, clock.now() + 1600);
  clock.advance(1600);
  const [c3] = await claim(t.db, "fetch", clock.now);
  assertEquals(c3.attempts, 3);
  const r3 = await fail(t.db, [c3.itemId], "fetch", { now: clock.now, random: () => 0.75 });
  // 1000 × 2^2 × 1.1
  assertEquals(r3.outcomes[0].runAfter, clock.now() + 4400);
  assertEquals(await stagesOf(t.db, "k1"), [
    ["fetch", "pending", 3],
    ["parse", "pending", 0],
    ["store", "pending", 0],
  ]);
});

Deno.test("retries exhausted: the attempt after the last retry fails the stage", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const statuses: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [c] = await claim(t.db, "fetch", clock.now);
    assertEquals(c.attempts, attempt);
    const { outcomes } = await fail(t.db, [c.itemId], "fetch", { now: clock.now, retries: 2 });
    statuses.push(outcomes[0].status);
    clock.advance(3_600_000);
  }
  assertEquals(statuses, ["pending", "pending", "failed"]);
  assertEquals(await claim(t.db, "fetch", clock.now), []);
  const [item] = await t.db.listItems({ jobId: "j" });
  assertEquals(item.status, "failed");
  assertEquals(item.stages[0], { stage: "fetch", status: "failed", attempts: 3, error: "boom 1" });
  const events = await t.db.getEvents({ jobId: "j" });
  assertEquals(events.map((e) => [e.kind, e.stage, e.message, e.data]), [
    ["failed", "fetch", "boom 1", { attempts: 3 }],
    ["retry", "fetch", "boom 1", {
      attempts: 2,
      runAfter: Date.UTC(2026, 0, 1) + 3_600_000 + 2000,
    }],
    ["retry", "fetch", "boom 1", { attempts: 1, runAfter: Date.UTC(2026, 0, 1) + 1000 }],
  ]);
});

Deno.test("a permanent error fails the stage at once, whatever retries are left", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [c] = await claim(t.db, "fetch", clock.now);
  const { outcomes } = await fail(t.db, [c.itemId], "fetch", {
    now: clock.now,
    permanent: true,
    retries: 5,
  });
  assertEquals(outcomes, [{ itemId: c.itemId, stage: "fetch", status: "failed", runAfter: 0 }]);
  clock.advance(3_600_000);
  assertEquals(await claim(t.db, "fetch", clock.now), []);
  assertEquals(await claim(t.db, "parse", clock.now), []);
  assertEquals((await t.db.getEvents({ kind: "failed" })).length, 1);
});

Deno.test("markSkipped() records the reason and an event, and the next stage follows", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [c] = await claim(t.db, "fetch", clock.now);
  const n = await t.db.markSkipped({
    jobId: "j",
    runId: "r1",
    items: [{ itemId: c.itemId, stage: "fetch", position: 0, reason: "paywalled" }],
    now: clock.now,
  });
  assertEquals(n, 1);
  assertEquals(await resultOf(t.db, c.itemId, "fetch"), undefined);
  const [item] = await t.db.listItems({ jobId: "j" });
  assertEquals(item.stages[0], {
    stage: "fetch",
    status: "skipped",
    attempts: 1,
    error: "paywalled",
  });
  const events = await t.db.getEvents({ jobId: "j" });
  assertEquals(events.map((e) => [e.kind, e.itemId, e.stage, e.message, e.ts]), [
    ["skipped", c.itemId, "fetch", "paywalled", clock.now()],
  ]);
  assertEquals((await claim(t.db, "parse", clock.now)).map((x) => x.key), ["k1"]);
});

Deno.test("a paused job is not claimable until it is unpaused", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(3) });
  await t.db.upsertItems({ jobId: "other", stages: STAGES, items: makeItems(2) });
  await t.db.pauseJob("j", "too many failures");
  assertEquals(await claim(t.db, "fetch", clock.now), []);
  const other = await t.db.claimBatch({
    jobId: "other",
    stage: "fetch",
    runId: "r1",
    limit: 10,
    leaseMs: LEASE,
    now: clock.now,
  });
  assertEquals(other.length, 2);
  await t.db.unpauseJob("j");
  assertEquals((await claim(t.db, "fetch", clock.now, "r1", 1)).length, 1);
  await t.db.setJobPaused({ jobId: "j", paused: true, reason: "budget" });
  assertEquals(await claim(t.db, "fetch", clock.now), []);
  await t.db.setJobPaused({ jobId: "j", paused: false });
  assertEquals((await claim(t.db, "fetch", clock.now)).length, 2);
});

Deno.test("an outcome from a run that no longer holds the claim records nothing", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(1) });
  const [old] = await claim(t.db, "fetch", clock.now, "old");
  clock.advance(LEASE + 1);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 1,
    deadProcess: 0,
  });
  const [taken] = await claim(t.db, "fetch", clock.now, "new");
  // The lost lease is a crash, not an attempt.
  assertEquals([taken.attempts, taken.crashes], [1, 1]);
  assertEquals(await done(t.db, [old.itemId], "fetch", clock.now, "old"), 0);
  assertEquals(await resultOf(t.db, old.itemId, "fetch"), undefined);
  const failed = await t.db.markFailed({
    jobId: "j",
    runId: "old",
    items: [{
      itemId: old.itemId,
      stage: "fetch",
      error: "x",
      permanent: true,
      retries: 0,
      backoffMs: 1,
    }],
    now: clock.now,
  });
  assertEquals(failed.outcomes, []);
  const skipped = await t.db.markSkipped({
    jobId: "j",
    runId: "old",
    items: [{ itemId: old.itemId, stage: "fetch", position: 0, reason: "x" }],
    now: clock.now,
  });
  assertEquals(skipped, 0);
  assertEquals(await stagesOf(t.db, "k1"), [
    ["fetch", "in_progress", 1],
    ["parse", "pending", 0],
    ["store", "pending", 0],
  ]);
  assertEquals(await done(t.db, [taken.itemId], "fetch", clock.now, "new"), 1);
  assertEquals((await resultOf(t.db, taken.itemId, "fetch"))?.handlerVersion, "v1");
});

Deno.test("consecutive failures count up across batches and reset on a done stage", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: STAGES, items: makeItems(5) });
  const claims = await claim(t.db, "fetch", clock.now);
  const ids = claims.map((c) => c.itemId);
  assertEquals(
    (await fail(t.db, ids.slice(0, 2), "fetch", { now: clock.now })).consecutiveFailures,
    2,
  );
  assertEquals(
    (await fail(t.db, ids.slice(2, 3), "fetch", { now: clock.now, permanent: true }))
      .consecutiveFailures,
    3,
  );
  assertEquals((await t.db.getJobState("j")).consecutiveFailures, 3);
  await done(t.db, ids.slice(3, 4), "fetch", clock.now);
  assertEquals((await t.db.getJobState("j")).consecutiveFailures, 0);
  assertEquals(
    (await fail(t.db, ids.slice(4, 5), "fetch", { now: clock.now })).consecutiveFailures,
    1,
  );
});

Deno.test("claimBatch() takes due rows in run_after order and leaves future ones", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["only"], items: makeItems(3) });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "only",
    runId: "r1",
    limit: 3,
    leaseMs: LEASE,
    now: clock.now,
  });
  const fails = [[claims[0].itemId, 4000], [claims[1].itemId, 1000], [claims[2].itemId, 2000]];
  for (const [itemId, backoffMs] of fails) {
    await t.db.markFailed({
      jobId: "j",
      runId: "r1",
      items: [{ itemId, stage: "only", error: "e", permanent: false, retries: 3, backoffMs }],
      now: clock.now,
      random: () => 0.5,
    });
  }
  clock.advance(2500);
  const take = async (limit: number) =>
    (await t.db.claimBatch({
      jobId: "j",
      stage: "only",
      runId: "r2",
      limit,
      leaseMs: LEASE,
      now: clock.now,
    })).map((c) => c.key);
  assertEquals(await take(1), ["k2"]);
  assertEquals(await take(10), ["k3"]);
  clock.advance(1500);
  assertEquals(await take(10), ["k1"]);
});
