import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fakeClock, tempDb } from "./_helpers.ts";

const T0 = Date.UTC(2026, 2, 10);
const STALE = 15 * 60_000;

Deno.test("detectCrashedRuns() reports each run that ended without finishing, once", async () => {
  await using t = await tempDb();
  const clock = fakeClock(T0);
  const dead = new Set([111]);
  const isAlive = (pid: number) => !dead.has(pid);
  const reg = (runId: string, host: string, pid: number, jobs?: string[]) =>
    t.db.registerRun({ runId, host, pid, jobs, now: clock.now });
  await reg("gone", "here", 111, ["a", "b"]);
  await reg("alive", "here", 222, ["a"]);
  await reg("done", "here", 111, ["a"]);
  await t.db.finishRun({ runId: "done", outcome: "ok", now: clock.now });
  await reg("far-quiet", "there", 333);
  await reg("far-busy", "there", 444, ["c"]);
  clock.advance(STALE);
  await t.db.renewLeases({ runId: "far-busy", leaseMs: 60_000, now: clock.now });
  await reg("me", "here", 555);
  const found = await t.db.detectCrashedRuns({
    runId: "me",
    staleMs: STALE,
    host: "here",
    isAlive,
    now: clock.now,
  });
  assertEquals(found.map((r) => [r.runId, r.jobs, r.reason]), [
    ["gone", ["a", "b"], "process 111 on here is gone"],
    ["far-quiet", [], `no sign of life from there since ${new Date(T0).toISOString()}`],
  ]);
  const alerts = (await t.db.pendingAlerts()).map((a) => [a.jobId, a.kind, a.data.runId]);
  assertEquals(alerts, [
    ["a", "crashed", "gone"],
    ["b", "crashed", "gone"],
    ["", "crashed", "far-quiet"],
  ]);
  const again = await t.db.detectCrashedRuns({
    runId: "me",
    staleMs: STALE,
    host: "here",
    isAlive,
    now: clock.now,
  });
  assertEquals(again, []);
});
