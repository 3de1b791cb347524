/**
 * Worker stages (`worker:` on a command stage), run through `jobctl run` with real Python
 * processes: the line protocol, and supervision of the processes (crash, hang, max_items,
 * shutdown, garbage on stdout).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../src/cli/mod.ts";
import { groupsGone, killingGroups } from "../_processes.ts";
import { PG_ONLY, scratchSchema, TEST_PG_URL } from "../db/_helpers.ts";
import { allItems, exited, resultsOf, startJobs, waitFor, Workspace } from "./_helpers.ts";

const HELPER = await Deno.readTextFile(
  fileURLToPath(new URL("../../workers/jobs_worker.py", import.meta.url)),
);

/** A workspace with jobs_worker.py, `worker.py` and a jobs.yaml of one job `j`. */
async function workspace(
  worker: string,
  yaml: string,
  files: Record<string, string> = {},
): Promise<Workspace> {
  return await Workspace.create({
    "jobs_worker.py": HELPER,
    "worker.py": worker,
    "jobs.yaml": yaml,
    ...files,
  });
}

function keys(...names: string[]): string {
  return `[${names.map((k) => `{ key: ${k} }`).join(", ")}]`;
}

/** Pids noted in pids.log by the workers as they start: their process groups. */
async function pids(ws: Workspace): Promise<number[]> {
  return (await ws.lines("pids.log")).map(Number);
}

/** Notes the process's pid in pids.log as it starts. */
const NOTE_PID = `import os
with open("pids.log", "a") as f:
    f.write(f"{os.getpid()}\\n")
`;

const OUTCOMES = `${NOTE_PID}import jobs_worker

def handle(item, ctx):
    key = item["key"]
    print("working on", key)  # goes to stderr: stdout carries the protocol
    if key == "skip":
        ctx.skip("not today")
    if key == "perm":
        raise jobs_worker.PermanentError("bad record")
    if key == "later":
        raise jobs_worker.RetryLater("busy", after=90)
    if key == "err":
        raise ValueError("it broke")
    ctx.log("step one", n=1)
    ctx.log("step two", level="warn")
    ctx.cost(0.25, model="small")
    ctx.cost(0.5)
    return {"pid": os.getpid(), "data": item["data"], "results": ctx.results,
            "context": [ctx.job, ctx.stage, ctx.mode, ctx.attempt]}

jobs_worker.serve(handle)
`;

Deno.test("a worker stage runs every item in one process: result, skip, fail, retry later, error, logs and costs", async () => {
  await using ws = await workspace(
    OUTCOMES,
    `jobs:
  j:
    discovery:
      strategy: static
      items: [{ key: ok, n: 7 }, { key: skip }, { key: perm }, { key: later }, { key: err }, { key: ok2 }]
    stages:
      - { name: first, handler: first.ts }
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 1, retries: 2, backoff: 1m }
`,
    { "first.ts": "export default (item) => ({ from: item.key });\n" },
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, / info {2}step one job=j stage=w item=ok n=1\n/);
  assert.match(out.stderr, / warn {2}step two job=j stage=w item=ok\n/);
  const [pid] = await pids(ws);
  assert.equal((await pids(ws)).length, 1, "one process for every item");
  await groupsGone([pid]);
  const db = await ws.openDb();
  try {
    const stage = Object.fromEntries(
      (await allItems(db, "j")).map((i) => [i.key, i.stages[1]]),
    );
    const row = (status: string, error: string | null) => ({
      stage: "w",
      status,
      attempts: 1,
      error,
    });
    assert.deepEqual(stage.ok, row("done", null));
    assert.deepEqual(stage.ok2, row("done", null));
    assert.deepEqual(stage.skip, row("skipped", "not today"));
    assert.deepEqual(
      stage.perm,
      row("failed", "PermanentError: bad record; stderr: working on perm"),
    );
    assert.deepEqual(stage.later, row("pending", "busy; stderr: working on later"));
    assert.equal(stage.err.status, "pending");
    assert.match(
      stage.err.error!,
      /^Error: ValueError: it broke; stderr: working on err\nTraceback .*\nValueError: it broke$/s,
    );
    const results = await resultsOf(db, "j", "ok");
    assert.deepEqual(results.map((r) => [r.stage, r.result]), [
      ["first", { from: "ok" }],
      ["w", {
        pid,
        data: { n: 7 },
        results: { first: { from: "ok" } },
        context: ["j", "w", "production", 1],
      }],
    ]);
  } finally {
    await db.close();
  }
  const detail = JSON.parse((await ws.jobs(["item", "-j", "j", "ok", "--json"])).stdout);
  assert.deepEqual(
    detail.events.filter((e: { kind: string }) => e.kind === "cost")
      .map((e: { costUsd: number; data: unknown }) => [e.costUsd, e.data]),
    [[0.5, {}], [0.25, { model: "small" }]], // newest first
  );
  // retry_later's after: 90 s from the attempt, not the stage's 1m backoff.
  const later = JSON.parse((await ws.jobs(["item", "-j", "j", "later", "--json"])).stdout);
  const [, w] = later.stages;
  assert.equal(w.runAfter - w.finishedAt >= 89_000 && w.runAfter - w.finishedAt <= 91_000, true);
});

// Dies on the first attempt of "crash", after a line on stderr, leaving a child in its group.
const CRASHING = `${NOTE_PID}import subprocess, sys, jobs_worker

def handle(item, ctx):
    if item["key"] == "crash" and ctx.attempt == 1:
        subprocess.Popen(["sleep", "600"])
        print("dying", file=sys.stderr, flush=True)
        os._exit(3)
    return {"pid": os.getpid(), "attempt": ctx.attempt}

jobs_worker.serve(handle)
`;

Deno.test("a worker that dies mid-item costs that item an attempt, is restarted, and the item is retried", async () => {
  await using ws = await workspace(
    CRASHING,
    `jobs:
  j:
    discovery: { strategy: static, items: ${keys("a", "crash", "b")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 1, backoff: 0s }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(
    out.stderr,
    /warn {2}Error: The worker of stage "w", running item "crash", exited with code 3; stderr: dying job=j stage=w item=crash attempt=1\n/,
  );
  const started = await pids(ws);
  assert.equal(started.length, 2, "started again once");
  // The child the crashed worker left in its group went with it.
  await groupsGone(started);
  const db = await ws.openDb();
  try {
    const items = await allItems(db, "j");
    assert.deepEqual(items.map((i) => [i.key, i.stages[0].status, i.stages[0].attempts]), [
      ["a", "done", 1],
      ["crash", "done", 2],
      ["b", "done", 1],
    ]);
    const result = async (key: string) => (await resultsOf(db, "j", key))[0].result;
    // The second attempt ran on the process started after the crash.
    assert.deepEqual(await result("crash"), { pid: started[1], attempt: 2 });
    const other = [await result("a"), await result("b")] as { pid: number }[];
    assert.ok(other.every((r) => started.includes(r.pid)), JSON.stringify(other));
  } finally {
    await db.close();
  }
});

Deno.test(
  "on PostgreSQL: a worker's crash costs its item an attempt and the retry is recorded",
  PG_ONLY,
  async () => {
    const scratch = await scratchSchema(TEST_PG_URL!);
    try {
      await using ws = await workspace(
        CRASHING,
        `db: ${scratch.url}
jobs:
  j:
    discovery: { strategy: static, items: ${keys("a", "crash")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 1, backoff: 0s }
`,
      );
      await using _groups = killingGroups(() => pids(ws));
      const out = await ws.jobs(["run"]);
      assert.equal(out.code, 0, out.stderr);
      const started = await pids(ws);
      assert.equal(started.length, 2);
      await groupsGone(started);
      const db = await ws.openDb(scratch.url);
      try {
        const items = await allItems(db, "j");
        assert.deepEqual(items.map((i) => [i.key, i.stages[0].status, i.stages[0].attempts]), [
          ["a", "done", 1],
          ["crash", "done", 2],
        ]);
        assert.deepEqual((await resultsOf(db, "j", "crash"))[0].result, {
          pid: started[1],
          attempt: 2,
        });
      } finally {
        await db.close();
      }
    } finally {
      await scratch.drop();
    }
  },
);

// The first attempt never answers; it starts a child in its group that would outlive it if only
// the worker were killed.
const HANGING = `${NOTE_PID}import subprocess, time, jobs_worker

def handle(item, ctx):
    if ctx.attempt == 1:
        subprocess.Popen(["sleep", "600"])
        time.sleep(600)
    return {"pid": os.getpid(), "attempt": ctx.attempt}

jobs_worker.serve(handle)
`;

Deno.test("an item past its timeout kills its worker's process group; a new worker takes the retry", async () => {
  await using ws = await workspace(
    HANGING,
    `jobs:
  j:
    discovery: { strategy: static, items: ${keys("hang")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, timeout: 3s, backoff: 0s }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /warn {2}Timed out after 3s job=j stage=w item=hang attempt=1\n/);
  const started = await pids(ws);
  assert.equal(started.length, 2);
  // The child of the first worker was in its group.
  await groupsGone(started);
  const db = await ws.openDb();
  try {
    const [item] = await allItems(db, "j");
    assert.deepEqual([item.stages[0].status, item.stages[0].attempts], ["done", 2]);
    assert.deepEqual((await resultsOf(db, "j", "hang"))[0].result, { pid: started[1], attempt: 2 });
  } finally {
    await db.close();
  }
});

const PID_ONLY = `${NOTE_PID}import jobs_worker

jobs_worker.serve(lambda item, ctx: {"pid": os.getpid()})
`;

Deno.test("max_items recycles a worker after that many items", async () => {
  await using ws = await workspace(
    PID_ONLY,
    `jobs:
  j:
    discovery: { strategy: static, items: ${keys("k1", "k2", "k3", "k4", "k5")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: { max_items: 2 }, concurrency: 1 }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  const started = await pids(ws);
  assert.equal(started.length, 3, "5 items, 2 per process");
  await groupsGone(started);
  const db = await ws.openDb();
  try {
    const items = new Map<number, number>();
    for (const key of ["k1", "k2", "k3", "k4", "k5"]) {
      const { pid } = (await resultsOf(db, "j", key))[0].result as { pid: number };
      items.set(pid, (items.get(pid) ?? 0) + 1);
    }
    assert.deepEqual(started.map((pid) => items.get(pid)), [2, 2, 1]);
  } finally {
    await db.close();
  }
});

// Answers items, but does not exit when stdin is closed (only SIGTERM ends it).
const STAYS_UP = `${NOTE_PID}import sys, json, time
for line in sys.stdin:
    request = json.loads(line)
    print(json.dumps({"id": request["id"], "kind": "result", "result": None}), flush=True)
time.sleep(600)
`;

Deno.test("at the end of a run a worker that ignores its closed stdin gets SIGTERM after the grace period", async () => {
  await using ws = await workspace(
    STAYS_UP,
    `runner: { shutdown_grace: 200ms }
jobs:
  j:
    discovery: { strategy: static, items: ${keys("k1", "k2", "k3")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 2 }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /w: 3 done/);
  const started = await pids(ws);
  assert.equal(started.length, 2);
  // Gone when the run has ended, not later.
  await groupsGone(started, 0);
});

// Each worker starts a child in its group, then hangs on every item.
const BUSY = `${NOTE_PID}import subprocess, time, jobs_worker
subprocess.Popen(["sleep", "600"])

def handle(item, ctx):
    time.sleep(600)

jobs_worker.serve(handle)
`;

Deno.test("a second SIGTERM kills every worker's process group before the runner exits", async () => {
  await using ws = await workspace(
    BUSY,
    `runner: { shutdown_grace: 30s }
jobs:
  j:
    discovery: { strategy: static, items: ${keys("k1", "k2")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 2 }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const run = startJobs(ws, ["run"]);
  await waitFor("both workers to start", async () => (await pids(ws)).length === 2);
  run.child.kill("SIGTERM");
  await waitFor("the first signal to be noticed", () => run.stderr().includes("Stopping:"));
  run.child.kill("SIGTERM");
  const status = await exited(run, "jobs run after a second SIGTERM");
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  await groupsGone(await pids(ws));
});

Deno.test("SIGTERM: a worker item past the grace period is aborted, its group killed and its claim released", async () => {
  await using ws = await workspace(
    BUSY,
    `runner: { shutdown_grace: 300ms }
jobs:
  j:
    discovery: { strategy: static, items: ${keys("k1", "k2")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 2 }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const run = startJobs(ws, ["run"]);
  await waitFor("both workers to start", async () => (await pids(ws)).length === 2);
  run.child.kill("SIGTERM");
  const status = await exited(run, "jobs run after SIGTERM and the grace period");
  assert.equal(status.code, EXIT.interrupted, run.stderr());
  await groupsGone(await pids(ws));
  const db = await ws.openDb();
  try {
    const items = await allItems(db, "j");
    assert.deepEqual(items.map((i) => [i.stages[0].status, i.stages[0].attempts]), [
      ["pending", 0],
      ["pending", 0],
    ]);
  } finally {
    await db.close();
  }
});

// Speaks the protocol by hand: "garbage" prints a line that is not JSON, "stranger" answers
// with an id that was not asked.
const GARBLED = `${NOTE_PID}import sys, json
for line in sys.stdin:
    request = json.loads(line)
    key = request["item"]["key"]
    with open("handled.log", "a") as f:
        f.write(f"{os.getpid()} {key}\\n")
    if key == "garbage":
        print("hello, not json", flush=True)
    elif key == "stranger":
        print(json.dumps({"id": request["id"] + 100, "kind": "result", "result": 1}), flush=True)
    else:
        print(json.dumps({"id": request["id"], "kind": "result", "result": key}), flush=True)
`;

Deno.test("garbage on a worker's stdout fails that item, naming the stage and the item, and the worker is replaced", async () => {
  await using ws = await workspace(
    GARBLED,
    `jobs:
  j:
    discovery: { strategy: static, items: ${keys("garbage", "a", "stranger", "b")} }
    stages:
      - { name: w, command: [python3, worker.py], worker: true, concurrency: 1 }
`,
  );
  await using _groups = killingGroups(() => pids(ws));
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, out.stderr);
  // Items may be claimed in any order: each garbled answer ends its process.
  const handled = (await ws.lines("handled.log")).map((l) => l.split(" "));
  const garbled = (key: string) => key === "garbage" || key === "stranger";
  const expected = handled.filter(([, key]) => garbled(key)).length +
    (garbled(handled.at(-1)![1]) ? 0 : 1);
  const started = await pids(ws);
  assert.equal(started.length, expected, JSON.stringify(handled));
  for (const [i, [pid, key]] of handled.entries()) {
    if (garbled(key)) assert.ok(handled.slice(i + 1).every(([p]) => p !== pid), `${pid} went on`);
  }
  await groupsGone(started);
  // Ids count the requests of one process.
  const at = handled.findIndex(([, key]) => key === "stranger");
  const strangerId = handled.slice(0, at + 1).filter(([pid]) => pid === handled[at][0]).length;
  const db = await ws.openDb();
  try {
    const items = await allItems(db, "j");
    assert.deepEqual(items.map((i) => [i.key, i.stages[0].status, i.stages[0].error]), [
      [
        "garbage",
        "failed",
        'PermanentError: The worker of stage "w", running item "garbage", printed a line ' +
        "that is not JSON (Unexpected token 'h', \"hello, not json\" is not valid JSON): " +
        '"hello, not json"',
      ],
      ["a", "done", null],
      [
        "stranger",
        "failed",
        `PermanentError: The worker of stage "w", running item "stranger", sent a message ` +
        `for id ${strangerId + 100}, but the item running has id ${strangerId}: ` +
        `"{\\"id\\": ${strangerId + 100}, \\"kind\\": \\"result\\", \\"result\\": 1}"`,
      ],
      ["b", "done", null],
    ]);
  } finally {
    await db.close();
  }
});

const JS_WORKER = `import { PermanentError, RetryLater, serve } from "./jobs_worker.mjs";

serve(async (item, ctx) => {
  console.log("working on", item.key); // goes to stderr: stdout carries the protocol
  if (item.key === "skip") ctx.skip("not today");
  if (item.key === "perm") throw new PermanentError("bad record");
  if (item.key === "later") throw new RetryLater("busy", 90_000);
  if (item.key === "err") throw new TypeError("it broke");
  ctx.log.warn("step one", { n: 1 });
  ctx.cost(0.25, { model: "small" });
  await new Promise((resolve) => setTimeout(resolve, 1));
  return { results: ctx.results, context: [ctx.job, ctx.stage, ctx.mode, ctx.attempt] };
});
`;

Deno.test("the JavaScript helper speaks the protocol: result, skip, fail, retry later, error, logs and costs", async () => {
  await using ws = await Workspace.create({
    "jobs_worker.mjs": await Deno.readTextFile(
      fileURLToPath(new URL("../../workers/jobs_worker.mjs", import.meta.url)),
    ),
    "worker.mjs": JS_WORKER,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: ${keys("ok", "skip", "perm", "later", "err")} }
    stages:
      - name: w
        command: [${JSON.stringify(Deno.execPath())}, run, --quiet, worker.mjs]
        worker: true
        backoff: 1m
`,
  });
  const out = await ws.jobs(["run"]);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, / warn {2}step one job=j stage=w item=ok n=1\n/);
  const db = await ws.openDb();
  try {
    const stage = Object.fromEntries(
      (await allItems(db, "j")).map((i) => [i.key, [i.stages[0].status, i.stages[0].error]]),
    );
    assert.deepEqual(stage.ok, ["done", null]);
    assert.deepEqual(stage.skip, ["skipped", "not today"]);
    assert.deepEqual(stage.perm, ["failed", "PermanentError: bad record; stderr: working on perm"]);
    assert.deepEqual(stage.later, ["pending", "busy; stderr: working on later"]);
    assert.equal(stage.err[0], "pending");
    assert.match(
      stage.err[1]!,
      /^Error: TypeError: it broke; stderr: working on err\nTypeError: it broke\n {4}at /,
    );
    assert.deepEqual((await resultsOf(db, "j", "ok"))[0].result, {
      results: {},
      context: ["j", "w", "production", 1],
    });
  } finally {
    await db.close();
  }
  const detail = JSON.parse((await ws.jobs(["item", "-j", "j", "ok", "--json"])).stdout);
  assert.deepEqual(
    detail.events.filter((e: { kind: string }) => e.kind === "cost").map((e: { costUsd: number }) =>
      e.costUsd
    ),
    [0.25],
  );
});
