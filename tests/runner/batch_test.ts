/**
 * `batch:` stages through `jobctl run`: outcomes that differ within a batch, a missing or
 * unknown key, costs split over a batch, batches within --limit, a kill -9 during a batch, and
 * command handlers. On PostgreSQL too when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { exited, resultsOf, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

// Logs the keys of each call, reports 0.06 USD, answers as each item's data.do says.
const BY_DATA = `export default function handle(items, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    items.map((i) => i.key).join(",") + "\\n", { append: true });
  if (exists("hang")) return new Promise(() => {});
  ctx.cost(0.06, { model: "m" });
  const out = {};
  for (const { key, data, attempt } of items) {
    if (data.do === "result") out[key] = { kind: "result", result: { key, attempt } };
    else if (data.do === "skip") out[key] = { kind: "skip", reason: "nothing to do" };
    else if (data.do === "fail") out[key] = { kind: "fail", message: "bad input" };
    else if (data.do === "missing") out["not-" + key] = { kind: "result", result: 1 };
  }
  return out;
}
function exists(name) {
  try {
    Deno.statSync(new URL("./" + name, import.meta.url));
    return true;
  } catch {
    return false;
  }
}
`;

function jobsYaml(items: Record<string, string>, batch = "{ size: 3, wait: 0 }"): string {
  const listed = Object.entries(items).map(([k, d]) => `{ key: ${k}, do: ${d} }`);
  return `jobs:
  j:
    discovery: { strategy: static, items: [${listed.join(", ")}] }
    stages:
      - { name: s, handler: ./h.ts, batch: ${batch}, retries: 0, concurrency: 1 }
`;
}

Deno.test("a batch records each item's own outcome; an item it misses fails, naming the stage", async () => {
  await using ws = await Workspace.create({
    "h.ts": BY_DATA,
    "jobs.yaml": jobsYaml({
      a: "result",
      b: "skip",
      c: "fail",
      d: "missing",
      e: "result",
      f: "result",
    }),
  });
  const run = await ws.jobs(["run"]);
  assert.equal(run.code, EXIT.failed, run.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["a,b,c", "d,e,f"]);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "j"), {
      a: "s=done",
      b: "s=skipped",
      c: "s=failed",
      d: "s=failed",
      e: "s=done",
      f: "s=done",
    });
    assert.deepEqual((await resultsOf(db, "j", "a")).map((r) => r.result), [{
      key: "a",
      attempt: 1,
    }]);
    const d = await db.getItemDetail({ jobId: "j", key: "d" });
    assert.equal(
      d?.stages[0].error,
      'Stage "s" of item "d": the batch handler returned no outcome for this item ' +
        '(it returned keys not in the batch: "not-d")',
    );
    const c = await db.getItemDetail({ jobId: "j", key: "c" });
    assert.equal(c?.stages[0].error, "bad input");
    assert.match(
      run.stderr,
      /the batch handler returned outcomes for keys not in the batch, ignored: "not-d"/,
    );
    // 0.06 per batch of 3: 0.02 for each item, recorded with it.
    const costs = (await db.getEvents({ jobId: "j", kind: "cost" })).map((e) => e.costUsd);
    assert.equal(costs.length, 6);
    for (const usd of costs) assert.ok(Math.abs(usd! - 0.02) < 1e-12, `cost ${usd}`);
  } finally {
    await db.close();
  }
});

Deno.test("a batch never takes more than --limit leaves", async () => {
  const keys = ["a", "b", "c", "d", "e", "f", "g"];
  await using ws = await Workspace.create({
    "h.ts": BY_DATA,
    "jobs.yaml": jobsYaml(Object.fromEntries(keys.map((k) => [k, "result"]))),
  });
  const first = await ws.jobs(["run", "--limit", "5"]);
  assert.equal(first.code, EXIT.ok, first.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["a,b,c", "d,e"]);
  const second = await ws.jobs(["run", "--limit", "1"]);
  assert.equal(second.code, EXIT.ok, second.stderr);
  const third = await ws.jobs(["run"]);
  assert.equal(third.code, EXIT.ok, third.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["a,b,c", "d,e", "f", "g"]);
  const db = await ws.openDb();
  try {
    const status = await statusMap(db, "j");
    assert.deepEqual(Object.values(status), keys.map(() => "s=done"));
  } finally {
    await db.close();
  }
});

Deno.test("every item of a batch a kill -9 interrupted runs again, and is recorded once", async () => {
  await using ws = await Workspace.create({
    "h.ts": BY_DATA,
    hang: "",
    "jobs.yaml": jobsYaml(
      { a: "result", b: "result", c: "result", d: "result" },
      "{ size: 2, wait: 0 }",
    ),
  });
  const run = startJobs(ws, ["run"]);
  await waitFor("the first batch to start", async () => (await ws.lines("calls.log")).length === 1);
  run.child.kill("SIGKILL");
  assert.equal((await exited(run, "the killed run")).signal, "SIGKILL");
  await Deno.remove(ws.path("hang"));
  const next = await ws.jobs(["run"]);
  assert.equal(next.code, EXIT.ok, next.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["a,b", "a,b", "c,d"]);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "j"), {
      a: "s=done",
      b: "s=done",
      c: "s=done",
      d: "s=done",
    });
    const counts = [];
    for (const key of ["a", "b", "c", "d"]) {
      const detail = await db.getItemDetail({ jobId: "j", key });
      const s = detail!.stages[0];
      counts.push([key, s.attempts, s.crashes, detail!.results.length]);
    }
    assert.deepEqual(counts, [["a", 1, 1, 1], ["b", 1, 1, 1], ["c", 1, 0, 1], ["d", 1, 0, 1]]);
    assert.equal((await db.getEvents({ jobId: "j", kind: "cost" })).length, 4);
  } finally {
    await db.close();
  }
});

// A command run once per batch: reads { items, context }, prints outcomes keyed by item key.
const BATCH_COMMAND = `import json, sys
request = json.load(sys.stdin)
with open("calls.log", "a") as log:
    log.write(request["context"]["stage"] + ":" + ",".join(i["key"] for i in request["items"]) + "\\n")
out = {}
for item in request["items"]:
    if item["key"] == "b":
        out["b"] = {"kind": "skip", "reason": "odd"}
    elif item["key"] == "c":
        out["c"] = {"kind": "result"}
    else:
        out[item["key"]] = {"kind": "result", "result": {"up": item["key"].upper()}}
print(json.dumps(out))
`;

Deno.test("a command batch handler runs once per batch; a malformed outcome fails its item", async () => {
  await using ws = await Workspace.create({
    "b.py": BATCH_COMMAND,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }, { key: b }, { key: c }, { key: d }] }
    stages:
      - { name: s, command: [python3, b.py], batch: { size: 4, wait: 1m }, retries: 0 }
`,
  });
  const run = await ws.jobs(["run"]);
  assert.equal(run.code, EXIT.failed, run.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["s:a,b,c,d"]);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "j"), {
      a: "s=done",
      b: "s=skipped",
      c: "s=failed",
      d: "s=done",
    });
    assert.deepEqual((await resultsOf(db, "j", "d")).map((r) => r.result), [{ up: "D" }]);
    const c = await db.getItemDetail({ jobId: "j", key: "c" });
    assert.equal(
      c?.stages[0].error,
      'Stage "s" of item "c": the batch handler returned an outcome of kind "result" without a ' +
        '"result": {"kind":"result"}',
    );
  } finally {
    await db.close();
  }
});

// Logs each call's keys; throws on a first attempt, answers done on the next.
const THROWS_FIRST = `export default function handle(items) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    items.map((i) => i.key + "@" + i.attempt).join(",") + "\\n", { append: true });
  if (items.some((i) => i.attempt === 1)) throw new Error("service unavailable");
  return Object.fromEntries(items.map((i) => [i.key, { kind: "result", result: i.attempt }]));
}
`;

Deno.test("a throw is the outcome of the whole batch: each item is retried on its own attempts", async () => {
  await using ws = await Workspace.create({
    "h.ts": THROWS_FIRST,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }, { key: b }] }
    stages:
      - { name: s, handler: ./h.ts, batch: { size: 2, wait: 0 }, retries: 1, backoff: 0 }
`,
  });
  const run = await ws.jobs(["run"]);
  assert.equal(run.code, EXIT.ok, run.stderr);
  assert.deepEqual(await ws.lines("calls.log"), ["a@1,b@1", "a@2,b@2"]);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "j"), { a: "s=done", b: "s=done" });
    assert.deepEqual((await resultsOf(db, "j", "b")).map((r) => r.result), [2]);
  } finally {
    await db.close();
  }
});

// The first stage passes items on one at a time, each some time after the last (the pause makes
// a batch stage that does not wait start batches that are not full; the outcome asserted holds
// whatever the pauses last).
const ONE_BY_ONE = `export default async function first(item) {
  await new Promise((resolve) => setTimeout(resolve, 40));
  return { from: item.key };
}
`;

Deno.test("a batch waits to fill while the previous stage still runs, within its wait", async () => {
  const keys = ["a", "b", "c", "d", "e", "f", "g"];
  await using ws = await Workspace.create({
    "first.ts": ONE_BY_ONE,
    "h.ts": BY_DATA,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [${
      keys.map((k) => `{ key: ${k}, do: result }`).join(", ")
    }] }
    stages:
      - { name: first, handler: ./first.ts, concurrency: 1 }
      - { name: s, handler: ./h.ts, batch: { size: 3, wait: 1h }, concurrency: 1 }
`,
  });
  const run = await ws.jobs(["run"]);
  assert.equal(run.code, EXIT.ok, run.stderr);
  // Full batches while items kept coming; the last one once the first stage had finished.
  assert.deepEqual(await ws.lines("calls.log"), ["a,b,c", "d,e,f", "g"]);
});

Deno.test("an item's result in a batch may emit items into another job", async () => {
  await using ws = await Workspace.create({
    "h.ts": `export default function handle(items) {
  return Object.fromEntries(items.map((i) => [i.key, i.key === "b"
    ? { kind: "error", message: "later" }
    : { kind: "result", result: { title: i.key, emit: { pages: [{ key: i.key + "-1" }] } } }]));
}
`,
    "p.ts": "export default () => null;\n",
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }, { key: b }] }
    stages:
      - { name: s, handler: ./h.ts, batch: { size: 2, wait: 0 }, retries: 0 }
  pages:
    discovery: { strategy: jsonl, path: ./none.jsonl }
    handler: ./p.ts
`,
  });
  const run = await ws.jobs(["run", "-j", "j"]);
  assert.equal(run.code, EXIT.failed, run.stderr);
  const db = await ws.openDb();
  try {
    assert.deepEqual(await statusMap(db, "j"), { a: "s=done", b: "s=failed" });
    assert.deepEqual((await resultsOf(db, "j", "a")).map((r) => r.result), [{ title: "a" }]);
    assert.deepEqual(Object.keys(await statusMap(db, "pages")), ["a-1"]);
  } finally {
    await db.close();
  }
});
