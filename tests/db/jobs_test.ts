import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { hostname } from "node:os";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const START = Date.UTC(2026, 0, 1);

Deno.test("getJobState() of an unknown job is the default state", async () => {
  await using t = await tempDb();
  assertEquals(await t.db.getJobState("nobody"), {
    jobId: "nobody",
    paused: false,
    pauseReason: null,
    pausedAt: null,
    wakeRequestedAt: null,
    lastDiscoveryAt: null,
    lastRunAt: null,
    consecutiveFailures: 0,
    discoveryFailures: 0,
    discoveryFailuresTotal: 0,
    lastNewItemAt: null,
  });
});

Deno.test("pause and unpause keep the reason and time, log events and clear the failure streak", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(3) });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "s",
    runId: "r",
    limit: 2,
    leaseMs: 1000,
    now: clock.now,
  });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage: "s",
      error: "e",
      permanent: true,
      retries: 0,
      backoffMs: 0,
    })),
    now: clock.now,
  });
  await t.db.setJobPaused({
    jobId: "j",
    paused: true,
    reason: "2 failures in a row",
    now: clock.now,
  });
  assertEquals(await t.db.getJobState("j"), {
    jobId: "j",
    paused: true,
    pauseReason: "2 failures in a row",
    pausedAt: START,
    wakeRequestedAt: null,
    lastDiscoveryAt: null,
    lastRunAt: null,
    consecutiveFailures: 2,
    discoveryFailures: 0,
    discoveryFailuresTotal: 0,
    lastNewItemAt: null,
  });
  clock.advance(5000);
  await t.db.setJobPaused({ jobId: "j", paused: false, now: clock.now });
  assertEquals(await t.db.getJobState("j"), {
    jobId: "j",
    paused: false,
    pauseReason: null,
    pausedAt: null,
    wakeRequestedAt: null,
    lastDiscoveryAt: null,
    lastRunAt: null,
    consecutiveFailures: 0,
    discoveryFailures: 0,
    discoveryFailuresTotal: 0,
    lastNewItemAt: null,
  });
  await t.db.pauseJob("j");
  assertEquals((await t.db.getJobState("j")).pauseReason, "paused by operator");
  await t.db.unpauseJob("j", "fixed the feed");
  const events = await t.db.getEvents({ jobId: "j" });
  assertEquals(events.map((e) => [e.kind, e.message]).slice(0, 4), [
    ["unpause", "fixed the feed"],
    ["pause", "paused by operator"],
    ["unpause", "unpaused"],
    ["pause", "2 failures in a row"],
  ]);
  assertEquals(events[3].ts, START);
  assertEquals(events[2].ts, START + 5000);
});

Deno.test("wakeJob() records a wake that a successful discovery clears and a failed one keeps", async () => {
  await using t = await tempDb();
  await t.db.wakeJob("j", START);
  assertEquals((await t.db.getJobState("j")).wakeRequestedAt, START);
  const [event] = await t.db.getEvents({ kind: "wake" });
  assertEquals([event.jobId, event.ts, event.message], ["j", START, "discovery requested"]);
  const now = () => START + 1000;
  assertEquals(
    await t.db.acquireDiscoveryLease({ jobId: "j", owner: "a", leaseMs: 60_000, now }),
    true,
  );
  await t.db.finishDiscovery({ jobId: "j", owner: "a", succeeded: false, now });
  assertEquals((await t.db.getJobState("j")).wakeRequestedAt, START);
  assertEquals((await t.db.getJobState("j")).lastDiscoveryAt, null);
  assertEquals(
    await t.db.acquireDiscoveryLease({ jobId: "j", owner: "a", leaseMs: 60_000, now }),
    true,
  );
  await t.db.finishDiscovery({ jobId: "j", owner: "a", succeeded: true, now });
  const state = await t.db.getJobState("j");
  assertEquals([state.wakeRequestedAt, state.lastDiscoveryAt], [null, START + 1000]);
});

Deno.test("markJobRun() records when the job last ran", async () => {
  await using t = await tempDb();
  await t.db.markJobRun({ jobId: "j", now: START });
  await t.db.markJobRun({ jobId: "j", now: START + 60_000 });
  const state = await t.db.getJobState("j");
  assertEquals([state.lastRunAt, state.paused, state.lastDiscoveryAt], [
    START + 60_000,
    false,
    null,
  ]);
  assertEquals((await t.db.getJobState("k")).lastRunAt, null);
});

Deno.test("the discovery lease has one owner at a time until it expires", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  const take = (owner: string) =>
    t.db.acquireDiscoveryLease({ jobId: "j", owner, leaseMs: 10_000, now: clock.now });
  assertEquals(await take("a"), true);
  assertEquals(await take("b"), false);
  clock.advance(9_000);
  // The owner renews its own lease.
  assertEquals(await take("a"), true);
  clock.advance(9_000);
  assertEquals(await take("b"), false);
  clock.advance(1_001);
  assertEquals(await take("b"), true);
  assertEquals(await take("a"), false);
  // Only the holder's finish releases it.
  await t.db.finishDiscovery({ jobId: "j", owner: "a", succeeded: true, now: clock.now });
  assertEquals(await take("a"), false);
  assertEquals((await t.db.getJobState("j")).lastDiscoveryAt, null);
  await t.db.finishDiscovery({ jobId: "j", owner: "b", succeeded: true, now: clock.now });
  assertEquals((await t.db.getJobState("j")).lastDiscoveryAt, clock.now());
  assertEquals(await take("a"), true);
  // Leases of different jobs are independent.
  assertEquals(
    await t.db.acquireDiscoveryLease({ jobId: "k", owner: "b", leaseMs: 10_000, now: clock.now }),
    true,
  );
});

Deno.test("stageStats() and getJobStats() count every stage and item by status", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(10) });
  await t.db.upsertItems({ jobId: "other", stages: ["a", "b"], items: makeItems(4) });
  const claims = await t.db.claimBatch({
    jobId: "j",
    stage: "a",
    runId: "r",
    limit: 8,
    leaseMs: 1000,
    now: clock.now,
  });
  const ids = claims.map((c) => c.itemId);
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: ids.slice(0, 4).map((itemId) => ({
      itemId,
      stage: "a",
      position: 0,
      result: 1,
      handlerVersion: null,
    })),
    now: clock.now,
  });
  await t.db.markSkipped({
    jobId: "j",
    runId: "r",
    items: [{ itemId: ids[4], stage: "a", position: 0, reason: "no" }],
    now: clock.now,
  });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{ itemId: ids[5], stage: "a", error: "e", permanent: true, retries: 0, backoffMs: 0 }],
    now: clock.now,
  });
  // ids[6], ids[7] stay in progress; 2 items are untouched.
  const b = await t.db.claimBatch({
    jobId: "j",
    stage: "b",
    runId: "r",
    limit: 2,
    leaseMs: 1000,
    now: clock.now,
  });
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [{ itemId: b[0].itemId, stage: "b", position: 1, result: 1, handlerVersion: null }],
    now: clock.now,
  });
  assertEquals(await t.db.stageStats("j"), [
    { stage: "a", position: 0, pending: 2, inProgress: 2, done: 4, failed: 1, skipped: 1 },
    { stage: "b", position: 1, pending: 8, inProgress: 1, done: 1, failed: 0, skipped: 0 },
  ]);
  // Items: 1 done (a and b done), 1 failed, 3 in progress (2 at a, 1 at b), 5 pending.
  assertEquals((await t.db.getJobStats("j")).items, {
    total: 10,
    done: 1,
    failed: 1,
    in_progress: 3,
    pending: 5,
  });
  assertEquals((await t.db.getJobStats("other")).items, {
    total: 4,
    done: 0,
    failed: 0,
    in_progress: 0,
    pending: 4,
  });
  assertEquals(await t.db.stageStats("nobody"), []);
});

Deno.test("throughput() counts stage rows finished since a time, by stage, not retries", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["a", "b"], items: makeItems(5), now: clock.now });
  const claim = { jobId: "j", runId: "r", limit: 10, leaseMs: 3_600_000, now: clock.now };
  const a = await t.db.claimBatch({ ...claim, stage: "a" });
  // k1 finishes before the window opens.
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [{ ...a[0], result: {}, handlerVersion: null }],
    now: clock.now,
  });
  clock.advance(60_000);
  const since = clock.now();
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [a[1], a[2]].map((c) => ({ ...c, result: {}, handlerVersion: null })),
    now: clock.now,
  });
  await t.db.markSkipped({
    jobId: "j",
    runId: "r",
    items: [{ ...a[3], reason: "x" }],
    now: clock.now,
  });
  const fail = { permanent: false, retries: 1, backoffMs: 0 };
  // The first failure of k5 is a retry (back to pending): not a finished run.
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{ ...a[4], error: "e", ...fail }],
    now: clock.now,
  });
  assertEquals(await t.db.throughput({ jobId: "j", sinceTs: since }), { a: 3 });
  const [again] = await t.db.claimBatch({ ...claim, stage: "a" });
  await t.db.markFailed({
    jobId: "j",
    runId: "r",
    items: [{ ...again, error: "e", ...fail }],
    now: clock.now,
  });
  const [b] = await t.db.claimBatch({ ...claim, stage: "b" });
  await t.db.markDone({
    jobId: "j",
    runId: "r",
    items: [{ ...b, result: {}, handlerVersion: null }],
    now: clock.now,
  });
  assertEquals(await t.db.throughput({ jobId: "j", sinceTs: since }), { a: 4, b: 1 });
  assertEquals(await t.db.throughput({ jobId: "j", sinceTs: since - 60_000 }), { a: 5, b: 1 });
  assertEquals(await t.db.throughput({ jobId: "other", sinceTs: 0 }), {});
});

/** The pid of a process of this host that has ended (and been reaped). */
async function endedPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("a discovery lease of a dead process on this host is released at once", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  const pid = await endedPid();
  await t.db.registerRun({ runId: "dead", pid });
  await t.db.registerRun({ runId: "alive" });
  await t.db.registerRun({ runId: "remote", host: "other-machine", pid });
  const take = (jobId: string, owner: string) =>
    t.db.acquireDiscoveryLease({ jobId, owner, leaseMs: 60_000, now: clock.now });
  assertEquals(await take("j", "dead"), true);
  assertEquals(await take("k", "remote"), true);
  assertEquals(await take("l", "alive"), true);
  const dead = {
    jobId: "j",
    owner: "dead",
    host: hostname(),
    pid,
    leaseUntil: clock.now() + 60_000,
  };
  assertEquals(await t.db.deadDiscoveryLeases({ now: clock.now }), [dead]);
  // Another host's lease and a live process's wait for their end.
  assertEquals(await take("k", "mine"), false);
  assertEquals(await take("l", "mine"), false);
  assertEquals(await take("j", "mine"), true);
  assertEquals(await t.db.deadDiscoveryLeases({ now: clock.now }), []);
  const events = await t.db.getEvents({ kind: "released" });
  assertEquals(events.map((e) => [e.jobId, e.message]), [
    ["j", `discovery lease released: process ${pid} on ${hostname()} is gone (held by dead)`],
  ]);
});

Deno.test("releaseDeadDiscoveryLeases() frees only dead holders' leases, each once", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  const pid = await endedPid();
  await t.db.registerRun({ runId: "dead", pid });
  await t.db.registerRun({ runId: "alive" });
  for (const [jobId, owner] of [["a", "dead"], ["b", "dead"], ["c", "alive"]]) {
    await t.db.acquireDiscoveryLease({ jobId, owner, leaseMs: 60_000, now: clock.now });
  }
  const released = await t.db.releaseDeadDiscoveryLeases({ jobId: "b", now: clock.now });
  assertEquals(released.map((l) => l.jobId), ["b"]);
  assertEquals((await t.db.releaseDeadDiscoveryLeases({ now: clock.now })).map((l) => l.jobId), [
    "a",
  ]);
  assertEquals(await t.db.releaseDeadDiscoveryLeases({ now: clock.now }), []);
  assertEquals((await t.db.getEvents({ kind: "released" })).length, 2);
  // The live holder keeps its lease.
  assertEquals(
    await t.db.acquireDiscoveryLease({ jobId: "c", owner: "x", leaseMs: 60_000, now: clock.now }),
    false,
  );
});

Deno.test("renewLeases() extends the discovery lease its run holds, and no other", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  await t.db.registerRun({ runId: "a" });
  await t.db.registerRun({ runId: "b" });
  const take = (jobId: string, owner: string) =>
    t.db.acquireDiscoveryLease({ jobId, owner, leaseMs: 10_000, now: clock.now });
  assertEquals(await take("j", "a"), true);
  assertEquals(await take("k", "b"), true);
  clock.advance(8_000);
  await t.db.renewLeases({ runId: "a", leaseMs: 10_000, now: clock.now });
  clock.advance(8_000);
  // a's lease runs to 18 s; b's ended at 10 s.
  assertEquals(await take("j", "c"), false);
  assertEquals(await take("k", "c"), true);
  clock.advance(2_001);
  assertEquals(await take("j", "c"), true);
});
