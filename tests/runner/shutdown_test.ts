import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";

import { startJobs, statusMap, waitFor, withConfig, Workspace } from "./_helpers.ts";

// Logs "start <key>", works for item.data.ms (never ends when 0), then logs "end <key>".
const SLOW = `export default async function handle(item) {
  const log = (what) => Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${what} \${item.key}\\n\`, { append: true });
  log("start");
  if (item.data.ms === 0) await new Promise(() => {});
  await new Promise((resolve) => setTimeout(resolve, item.data.ms));
  log("end");
  return { slept: item.data.ms };
}
`;

function yaml(ms: number, grace: string): string {
  const items = Array.from({ length: 8 }, (_, i) => `{ key: k${i}, ms: ${ms} }`);
  return `runner: { shutdown_grace: ${grace} }
jobs:
  slow:
    discovery: { strategy: static, items: [${items.join(", ")}] }
    stages:
      - { name: work, handler: ./slow.ts, concurrency: 2 }
`;
}

async function starts(ws: Workspace): Promise<number> {
  return (await ws.lines("calls.log")).filter((l) => l.startsWith("start")).length;
}

Deno.test("SIGTERM: handlers in flight finish within the grace period, queued claims are released, exit 130", async () => {
  await using ws = await Workspace.create({ "slow.ts": SLOW, "jobs.yaml": yaml(400, "10s") });
  const run = startJobs(ws, ["run"]);
  await waitFor("two handlers to start", async () => await starts(ws) === 2);
  run.child.kill("SIGTERM");
  const status = await run.done;
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  assert.match(run.stderr(), /Stopping: in-flight handlers get 10s to finish/);
  const lines = await ws.lines("calls.log");
  const started = lines.filter((l) => l.startsWith("start")).map((l) => l.slice(6)).sort();
  const ended = lines.filter((l) => l.startsWith("end")).map((l) => l.slice(4)).sort();
  assert.equal(started.length, 2);
  assert.deepEqual(ended, started, "both handlers in flight got to finish");
  const db = await ws.openDb();
  try {
    const states = await statusMap(db, "slow");
    for (const [key, state] of Object.entries(states)) {
      assert.equal(state, started.includes(key) ? "work=done" : "work=pending", key);
    }
    for (const item of await db.listItems({ jobId: "slow" })) {
      const expected = started.includes(item.key) ? 1 : 0;
      assert.equal(item.stages[0].attempts, expected, `attempts of ${item.key}`);
    }
  } finally {
    await db.close();
  }
});

Deno.test("SIGINT: a handler still running after the grace period is aborted and its claim released", async () => {
  await using ws = await Workspace.create({ "slow.ts": SLOW, "jobs.yaml": yaml(0, "300ms") });
  const run = startJobs(ws, ["run"]);
  await waitFor("two handlers to start", async () => await starts(ws) === 2);
  run.child.kill("SIGINT");
  const status = await run.done;
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  const db = await ws.openDb();
  try {
    const items = await db.listItems({ jobId: "slow" });
    assert.equal(items.length, 8);
    for (const item of items) {
      assert.deepEqual(item.stages, [{
        stage: "work",
        status: "pending",
        attempts: 0,
        error: null,
      }]);
    }
    assert.deepEqual(await db.getEvents({ jobId: "slow", kind: "released" }), []);
  } finally {
    await db.close();
  }
});

Deno.test("a second signal exits at once; the next run takes back the abandoned claims", async () => {
  await using ws = await Workspace.create({ "slow.ts": SLOW, "jobs.yaml": yaml(1500, "30s") });
  const run = startJobs(ws, ["run"]);
  await waitFor("two handlers to start", async () => await starts(ws) === 2);
  run.child.kill("SIGTERM");
  await waitFor("the first signal to be noticed", () => run.stderr().includes("Stopping:"));
  run.child.kill("SIGTERM");
  const status = await run.done;
  assert.equal(status.code, EXIT.interrupted);
  assert.match(run.stderr(), /Second signal: exiting now/);
  assert.equal((await ws.lines("calls.log")).filter((l) => l.startsWith("end")).length, 0);

  await ws.write("jobs.yaml", yaml(1, "30s"));
  const next = await ws.jobs(["run"]);
  assert.equal(next.code, 0, next.stderr);
  const db = await ws.openDb();
  try {
    const states = Object.values(await statusMap(db, "slow"));
    assert.deepEqual(states, Array(8).fill("work=done"));
    const released = await db.getEvents({ jobId: "slow", kind: "released" });
    assert.equal(released.length, 2, "the two claims of the dead process");
    for (const e of released) assert.match(e.message, /^process \d+ on .+ is gone/);
  } finally {
    await db.close();
  }
});

Deno.test("SIGTERM during a run with --max-runtime still exits 130", async () => {
  await using ws = await Workspace.create({ "slow.ts": SLOW, "jobs.yaml": yaml(300, "10s") });
  const child = ws.spawn(withConfig(ws, ["run", "--max-runtime", "1m"]));
  const output = child.output();
  await waitFor("two handlers to start", async () => await starts(ws) === 2);
  child.kill("SIGTERM");
  const { code } = await output;
  assert.equal(code, EXIT.interrupted);
});

Deno.test("SIGTERM is noticed while quick handlers keep the workers busy", async () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `{ key: k${i} }`);
  await using ws = await Workspace.create({
    // Settles in a microtask: the workers never wait for I/O.
    "quick.ts": `export default function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  return {};
}
`,
    "jobs.yaml": `jobs:
  busy:
    discovery: { strategy: static, items: [${keys.join(", ")}] }
    stages:
      - { name: a, handler: ./quick.ts, concurrency: 8 }
      - { name: b, handler: ./quick.ts, concurrency: 8 }
`,
  });
  // Its own deadline: the wait for its first calls below may take up to 120 s.
  const run = startJobs(ws, ["run"], 180_000);
  let ended = false;
  run.done.then(() => ended = true, () => ended = true);
  // Discovering 20,000 items takes a while on a loaded machine: the deadline is generous. The
  // log's size is checked (lines are at most 7 bytes), not its text, to spare the CPU.
  await waitFor("200 handler calls logged by the busy run", async () => {
    assert.equal(ended, false, `the run ended before 200 calls:\n${run.stderr()}`);
    return (await Deno.stat(ws.path("calls.log")).catch(() => ({ size: 0 }))).size >= 1400;
  }, 120_000);
  run.child.kill("SIGTERM");
  const status = await run.done;
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  const db = await ws.openDb();
  try {
    const stats = await db.stageStats("busy");
    assert.ok(stats[1].done < 20_000, `stopped at ${stats.map((s) => s.done).join(", ")} done`);
    assert.deepEqual(stats.map((s) => s.inProgress), [0, 0]);
  } finally {
    await db.close();
  }
});
