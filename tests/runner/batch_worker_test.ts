/**
 * `batch:` on a worker stage: one protocol request per batch, answered through the Python and
 * the JavaScript helper (serve_batch, serveBatch); a batch's cost is split over its items.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { EXIT } from "../../src/cli/mod.ts";
import { resultsOf, statusMap, Workspace } from "./_helpers.ts";

const helper = (name: string) =>
  Deno.readTextFileSync(fileURLToPath(new URL(`../../workers/${name}`, import.meta.url)));

const PYTHON = `import os, jobs_worker

def handle(items, ctx):
    with open("calls.log", "a") as log:
        log.write(f"{os.getpid()} " + ",".join(i["key"] for i in items) + "\\n")
    ctx.cost(0.09, model="m")
    out = {i["key"]: {"kind": "result", "result": {"n": i["data"]["n"] * 2}} for i in items}
    out["b"] = {"kind": "fail", "message": "no b"}
    return out

if __name__ == "__main__":
    jobs_worker.serve_batch(handle)
`;

const JAVASCRIPT = `import { serveBatch } from "./jobs_worker.mjs";
import { appendFileSync } from "node:fs";
import process from "node:process";

serveBatch(async (items, ctx) => {
  appendFileSync("calls.log", process.pid + " " + items.map((i) => i.key).join(",") + "\\n");
  ctx.cost(0.09, { model: "m" });
  const out = {};
  for (const i of items) out[i.key] = { kind: "result", result: { n: i.data.n * 2 } };
  out.b = { kind: "fail", message: "no b" };
  return out;
});
`;

function yaml(command: string): string {
  const items = ["a", "b", "c", "d", "e", "f"].map((k, n) => `{ key: ${k}, n: ${n} }`);
  return `jobs:
  j:
    discovery: { strategy: static, items: [${items.join(", ")}] }
    stages:
      - name: s
        command: ${command}
        worker: true
        batch: { size: 3, wait: 0 }
        concurrency: 1
        retries: 0
`;
}

for (
  const [language, files, command] of [
    ["Python", { "jobs_worker.py": helper("jobs_worker.py"), "w.py": PYTHON }, "[python3, w.py]"],
    [
      "JavaScript",
      { "jobs_worker.mjs": helper("jobs_worker.mjs"), "w.mjs": JAVASCRIPT },
      "[node, w.mjs]",
    ],
  ] as const
) {
  Deno.test(`a ${language} worker answers one request per batch, one outcome per item`, async () => {
    await using ws = await Workspace.create({ ...files, "jobs.yaml": yaml(command) });
    const run = await ws.jobs(["run"]);
    assert.equal(run.code, EXIT.failed, run.stderr);
    const calls = (await ws.lines("calls.log")).map((l) => l.split(" "));
    assert.deepEqual(calls.map(([, keys]) => keys), ["a,b,c", "d,e,f"]);
    assert.equal(calls[0][0], calls[1][0], "one process served both batches");
    const db = await ws.openDb();
    try {
      assert.deepEqual(await statusMap(db, "j"), {
        a: "s=done",
        b: "s=failed",
        c: "s=done",
        d: "s=done",
        e: "s=done",
        f: "s=done",
      });
      assert.deepEqual((await resultsOf(db, "j", "f")).map((r) => r.result), [{ n: 10 }]);
      const b = await db.getItemDetail({ jobId: "j", key: "b" });
      assert.equal(b?.stages[0].error, "no b");
      const costs = (await db.getEvents({ jobId: "j", kind: "cost" })).map((e) => e.costUsd!);
      assert.equal(costs.length, 6);
      for (const usd of costs) assert.ok(Math.abs(usd - 0.03) < 1e-12, `cost ${usd}`);
    } finally {
      await db.close();
    }
  });
}

Deno.test("a worker that exits during a batch costs each of its items an attempt", async () => {
  await using ws = await Workspace.create({
    "jobs_worker.py": helper("jobs_worker.py"),
    "w.py": `import os, jobs_worker

def handle(items, ctx):
    os._exit(3)

if __name__ == "__main__":
    jobs_worker.serve_batch(handle)
`,
    "jobs.yaml": yaml("[python3, w.py]").replace("size: 3", "size: 6"),
  });
  const run = await ws.jobs(["run"]);
  assert.equal(run.code, EXIT.failed, run.stderr);
  const db = await ws.openDb();
  try {
    const status = await statusMap(db, "j");
    assert.deepEqual(Object.values(status), Array(6).fill("s=failed"));
    const f = await db.getItemDetail({ jobId: "j", key: "f" });
    assert.deepEqual([f?.stages[0].error, f?.stages[0].attempts], [
      'Error: The worker of stage "s", running a batch of 6 from item "a", exited with code 3',
      1,
    ]);
  } finally {
    await db.close();
  }
});
