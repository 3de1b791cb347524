import { PROCESS_DEADLINE_MS, withDeadline } from "../_deadline.ts";
import type { Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { hostname } from "node:os";
import { fakeClock, makeItems, tempDb } from "./_helpers.ts";

const LEASE = 60_000;

function claim(db: Store, runId: string, now: () => number, limit = 10) {
  return db.claimBatch({ jobId: "j", stage: "s", runId, limit, leaseMs: LEASE, now });
}

async function stageRows(db: Store) {
  return (await db.listItems({ jobId: "j", limit: 1000 })).map((item) => [
    item.key,
    item.stages[0].status,
    item.stages[0].attempts,
  ]);
}

/** A child process that claims `limit` rows of stage "s" and holds them until it is killed. */
async function holdingChild(
  path: string,
  runId: string,
  limit: number,
): Promise<{ child: Deno.ChildProcess; claimed: number[] }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      new URL("./_claim_worker.ts", import.meta.url).pathname,
      path,
      "--job=j",
      `--run=${runId}`,
      "--stages=s",
      `--batch=${limit}`,
      "--hold",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const claimed: number[] = [];
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await withDeadline("the claiming process to hold its claims", PROCESS_DEADLINE_MS, async () => {
    while (!text.includes("held\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The claiming process ended early: ${text}`);
      text += value;
    }
  }, () => child.kill("SIGKILL"));
  // Nothing more comes; the child keeps its claims until it is killed.
  await reader.cancel();
  for (const line of text.split("\n").filter((l) => l.startsWith("{"))) {
    claimed.push(JSON.parse(line).item);
  }
  return { child, claimed };
}

async function kill(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await withDeadline("the killed claiming process to end", PROCESS_DEADLINE_MS, child.status);
}

Deno.test("an expired lease goes back to pending, counted as a crash and not an attempt, with an event", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(3) });
  await t.db.registerRun({ runId: "r1", host: "elsewhere", pid: 1 });
  const claims = await claim(t.db, "r1", clock.now, 2);
  clock.advance(LEASE);
  // At the lease's last millisecond it still holds.
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 0,
    deadProcess: 0,
  });
  clock.advance(1);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 2,
    deadProcess: 0,
  });
  assertEquals(await stageRows(t.db), [["k1", "pending", 0], ["k2", "pending", 0], [
    "k3",
    "pending",
    0,
  ]]);
  const events = await t.db.getEvents({ kind: "released" });
  assertEquals(
    events.map((e) => [e.itemId, e.stage, e.message, e.data, e.ts]).sort(),
    claims.map((c) => [
      c.itemId,
      "s",
      "lease expired (claimed by r1)",
      { attempts: 0, crashes: 1 },
      clock.now(),
    ]).sort(),
  );
  const again = await claim(t.db, "r2", clock.now);
  assertEquals(again.map((c) => [c.key, c.attempts, c.crashes]).sort(), [
    ["k1", 1, 1],
    ["k2", 1, 1],
    ["k3", 1, 0],
  ]);
});

Deno.test("after a first crash, a claim counts the next one only if its start was noted", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(3) });
  await t.db.registerRun({ runId: "r1", host: "elsewhere", pid: 1 });
  await t.db.registerRun({ runId: "r2", host: "elsewhere", pid: 2 });
  await claim(t.db, "r1", clock.now, 3);
  clock.advance(LEASE + 1);
  await t.db.reconcileExpiredLeases({ now: clock.now });
  // Each had crashed once; r2 notes that k1 started (k2 and k3 wait in its queue) and dies.
  const again = await claim(t.db, "r2", clock.now, 3);
  assertEquals(again.map((c) => [c.key, c.crashes]), [["k1", 1], ["k2", 1], ["k3", 1]]);
  await t.db.markStarted({ runId: "r2", items: [again[0]] });
  // A note for a claim another run holds changes nothing.
  await t.db.markStarted({ runId: "r1", items: [again[1]] });
  clock.advance(LEASE + 1);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 3,
    deadProcess: 0,
  });
  const third = await claim(t.db, "r3", clock.now, 3);
  assertEquals(third.map((c) => [c.key, c.attempts, c.crashes]), [
    ["k1", 1, 2],
    ["k2", 1, 1],
    ["k3", 1, 1],
  ]);
  // A new claim starts unnoted: k1 waits in r3's queue this time.
  clock.advance(LEASE + 1);
  await t.db.reconcileExpiredLeases({ now: clock.now });
  const fourth = await claim(t.db, "r4", clock.now, 3);
  assertEquals(fourth.map((c) => [c.key, c.crashes]), [["k1", 2], ["k2", 1], ["k3", 1]]);
  const events = await t.db.getEvents({ kind: "released" });
  assertEquals(events.length, 9);
});

Deno.test("renewLeases() extends every claim of the run and only of that run", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(3) });
  await claim(t.db, "r1", clock.now, 2);
  await claim(t.db, "r2", clock.now, 1);
  clock.advance(LEASE - 1);
  assertEquals(await t.db.renewLeases({ runId: "r1", leaseMs: LEASE, now: clock.now }), 2);
  clock.advance(2);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 1,
    deadProcess: 0,
  });
  clock.advance(LEASE - 2);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 0,
    deadProcess: 0,
  });
  clock.advance(1);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 2,
    deadProcess: 0,
  });
  assertEquals(await t.db.renewLeases({ runId: "r1", leaseMs: LEASE, now: clock.now }), 0);
});

Deno.test("releaseClaims() returns claims to pending without counting the attempt", async () => {
  await using t = await tempDb();
  const clock = fakeClock();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(4) });
  const mine = await claim(t.db, "r1", clock.now, 3);
  await claim(t.db, "r2", clock.now, 1);
  const [first] = mine.sort((a, b) => a.itemId - b.itemId);
  assertEquals(
    await t.db.releaseClaims({ runId: "r1", items: [{ itemId: first.itemId, stage: "s" }] }),
    1,
  );
  // Another run's claim is not released by name.
  assertEquals(await t.db.releaseClaims({ runId: "r1", items: [{ itemId: 4, stage: "s" }] }), 0);
  assertEquals(await t.db.releaseClaims({ runId: "r1" }), 2);
  assertEquals(await stageRows(t.db), [
    ["k1", "pending", 0],
    ["k2", "pending", 0],
    ["k3", "pending", 0],
    ["k4", "in_progress", 1],
  ]);
  assertEquals(await t.db.getEvents({ kind: "released" }), []);
  const again = await claim(t.db, "r3", clock.now);
  assertEquals(again.map((c) => c.attempts), [1, 1, 1]);
});

Deno.test("claims of a killed process on this host are released at once, not at lease end", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(5) });
  const { child, claimed } = await holdingChild(t.path, "doomed", 3);
  try {
    assertEquals(claimed.length, 3);
    // While it lives, its claims stay.
    assertEquals(await t.db.reconcileExpiredLeases(), { expired: 0, deadProcess: 0 });
  } finally {
    await kill(child);
  }
  assertEquals(await t.db.reconcileExpiredLeases(), { expired: 0, deadProcess: 3 });
  const rows = await stageRows(t.db);
  assertEquals(rows.filter(([, status]) => status === "pending").length, 5);
  assertEquals(rows.filter(([, , attempts]) => attempts === 0).length, 5);
  const again = await claim(t.db, "after", Date.now, 5);
  assertEquals(
    again.filter((c) => c.crashes === 1).map((c) => c.itemId).sort(),
    [...claimed].sort(),
  );
  assertEquals(again.filter((c) => c.crashes === 0).length, 2);
  const events = await t.db.getEvents({ kind: "released" });
  assertEquals(events.map((e) => e.itemId).sort(), [...claimed].sort());
  assertEquals(
    events[0].message,
    `process ${child.pid} on ${hostname()} is gone (claimed by doomed)`,
  );
  assertEquals(await t.db.reconcileExpiredLeases(), { expired: 0, deadProcess: 0 });
});

Deno.test("claims of another host wait for their lease even when its pid is not running here", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(2) });
  // A pid far above any pid_max: no such process exists on this machine.
  await t.db.registerRun({ runId: "remote", host: "other-machine", pid: 99_999_999 });
  await claim(t.db, "remote", clock.now, 2);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 0,
    deadProcess: 0,
  });
  clock.advance(LEASE + 1);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 2,
    deadProcess: 0,
  });
});

Deno.test("a run of this host whose pid no longer exists is released at once", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(2) });
  await t.db.registerRun({ runId: "gone", pid: 99_999_999 });
  await claim(t.db, "gone", clock.now, 2);
  assertEquals(await t.db.reconcileExpiredLeases({ now: clock.now }), {
    expired: 0,
    deadProcess: 2,
  });
});

Deno.test("claims of this process are never taken for a dead process's", async () => {
  await using t = await tempDb();
  const clock = fakeClock(Date.now());
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(2) });
  await t.db.registerRun({ runId: "me" });
  await claim(t.db, "me", clock.now, 2);
  assertEquals(
    await t.db.reconcileExpiredLeases({ now: clock.now, isAlive: () => false }),
    { expired: 0, deadProcess: 0 },
  );
  assertEquals((await stageRows(t.db)).map(([, status]) => status), ["in_progress", "in_progress"]);
});
