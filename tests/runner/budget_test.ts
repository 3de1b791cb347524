import assert from "node:assert/strict";

import { allItems, fakeClock, runInProcess, Workspace } from "./_helpers.ts";

const DAY = 86_400_000;

function yaml(handler: string, job: string, stage = ""): string {
  const items = Array.from({ length: 10 }, (_, i) => `{ key: k${i} }`);
  return `jobs:
  j:
    discovery: { strategy: static, items: [${items.join(", ")}] }
${job}    stages:
      - name: s
        handler: ${handler}
        concurrency: 1
${stage}`;
}

const PAID = `export default function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  const { cost } = ctx; // destructured: ctx members do not depend on "this"
  cost(0.02, { model: "small" });
  return { key: item.key };
}
`;

Deno.test("budget: no handler starts once today's cost reaches daily_usd; said once a day; the next UTC day resumes", async () => {
  await using ws = await Workspace.create({
    "paid.ts": PAID,
    "jobs.yaml": yaml("./paid.ts", "    budget: { daily_usd: 0.05 }\n"),
  });
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
  const db = await ws.openDb();
  try {
    const run = () => runInProcess(ws, db, "j", { now: clock.now });
    const counts = async () =>
      (await db.stageStats("j")).map((s) => [s.done, s.pending, s.inProgress]);
    const budgetEvents = async () =>
      (await db.getEvents({ jobId: "j", kind: "budget" })).map((e) => e.message);
    const message = "Daily budget of $0.05 reached ($0.06 spent today, UTC); " +
      "not claiming more work until tomorrow";

    await run();
    assert.deepEqual(await ws.lines("calls.log"), ["k0", "k1", "k2"]);
    assert.deepEqual(await counts(), [[3, 7, 0]]);
    assert.equal((await db.getDailyCost({ jobId: "j", day: clock.now() })).toFixed(2), "0.06");
    assert.deepEqual(await budgetEvents(), [message]);
    for (const item of (await allItems(db, "j")).slice(3)) {
      assert.equal(item.stages[0].attempts, 0, `released claim of ${item.key} is not an attempt`);
    }

    clock.advance(60_000);
    await run();
    assert.equal((await ws.lines("calls.log")).length, 3, "same day: nothing runs");
    assert.deepEqual(await budgetEvents(), [message], "said once that day");

    clock.advance(DAY);
    await run();
    assert.deepEqual(await ws.lines("calls.log"), ["k0", "k1", "k2", "k3", "k4", "k5"]);
    assert.deepEqual(await counts(), [[6, 4, 0]]);
    assert.deepEqual(await budgetEvents(), [message, message]);
    const costs = await db.getEvents({ jobId: "j", kind: "cost" });
    assert.equal(costs.length, 6);
    assert.deepEqual(costs[0].data, { model: "small" });
    assert.equal(costs[0].costUsd, 0.02);
  } finally {
    await db.close();
  }
});

Deno.test("budget: a spend exactly equal to daily_usd stops claiming", async () => {
  await using ws = await Workspace.create({
    // Quarters add up exactly in binary floating point: two calls spend exactly $0.50.
    "paid.ts": PAID.replace("cost(0.02", "cost(0.25"),
    "jobs.yaml": yaml("./paid.ts", "    budget: { daily_usd: 0.5 }\n"),
  });
  const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j", { now: clock.now });
    assert.deepEqual(await ws.lines("calls.log"), ["k0", "k1"]);
    assert.equal(await db.getDailyCost({ jobId: "j", day: clock.now() }), 0.5);
    assert.deepEqual((await db.stageStats("j")).map((s) => [s.done, s.pending]), [[2, 8]]);
  } finally {
    await db.close();
  }
});

Deno.test("circuit breaker: pause_after_failures consecutive failed attempts pause the job with a reason", async () => {
  await using ws = await Workspace.create({
    "down.ts": `export default function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  throw new Error("upstream is down");
}
`,
    "jobs.yaml": yaml("./down.ts", "    pause_after_failures: 3\n", "        retries: 0\n"),
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(await ws.lines("calls.log"), ["k0", "k1", "k2"]);
    assert.deepEqual(
      (await db.stageStats("j")).map((s) => [s.failed, s.pending, s.inProgress]),
      [[3, 7, 0]],
    );
    const state = await db.getJobState("j");
    assert.equal(state.paused, true);
    assert.equal(
      state.pauseReason,
      "3 consecutive failed attempts (last: Error: upstream is down)",
    );
    const pauses = await db.getEvents({ jobId: "j", kind: "pause" });
    assert.deepEqual(pauses.map((e) => e.message), [state.pauseReason]);

    await runInProcess(ws, db, "j");
    assert.equal((await ws.lines("calls.log")).length, 3, "a paused job runs nothing");
  } finally {
    await db.close();
  }
});

Deno.test("circuit breaker: a success in between resets the count of consecutive failures", async () => {
  await using ws = await Workspace.create({
    "odd.ts": `export default function handle(item) {
  if (Number(item.key.slice(1)) % 2 === 0) throw new Error("even keys fail");
  return {};
}
`,
    "jobs.yaml": yaml("./odd.ts", "    pause_after_failures: 2\n", "        retries: 0\n"),
  });
  const db = await ws.openDb();
  try {
    await runInProcess(ws, db, "j");
    assert.deepEqual(
      (await db.stageStats("j")).map((s) => [s.done, s.failed, s.pending]),
      [[5, 5, 0]],
    );
    assert.equal((await db.getJobState("j")).paused, false);
  } finally {
    await db.close();
  }
});
