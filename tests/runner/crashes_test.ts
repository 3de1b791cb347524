/**
 * An attempt that ends with its process (kill -9) is a crash, not the handler's failure: it does
 * not use up `retries`, and a handler that takes its worker down every time ends `failed` after
 * MAX_CRASHES of them. On PostgreSQL too when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { MAX_CRASHES } from "../../src/runner/_claim_outcome.ts";
import { tempDb } from "../db/_helpers.ts";
import { exited, startJobs, statusMap, waitFor, Workspace } from "./_helpers.ts";

// Logs each call; the first run's calls (before "hang" is removed) never settle.
const HANGS_ONCE = `export default async function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  try {
    Deno.statSync(new URL("./hang", import.meta.url));
    await new Promise(() => {});
  } catch {
    return { ok: true };
  }
}
`;

// Logs each call and kills its own process.
const KILLS_ITS_WORKER = `export default function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  Deno.kill(Deno.pid, "SIGKILL");
}
`;

// Logs each call; item "a" kills its own process, the others are done.
const A_KILLS_ITS_WORKER = `export default function handle(item) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  if (item.key === "a") Deno.kill(Deno.pid, "SIGKILL");
  return { ok: true };
}
`;

function jobsYaml(db: string, keys: string[], concurrency = keys.length): string {
  return `db: "${db}"
jobs:
  j:
    discovery: { strategy: static, items: [${keys.map((k) => `{ key: ${k} }`).join(", ")}] }
    stages:
      - { name: s, handler: ./h.ts, retries: 0, concurrency: ${concurrency} }
`;
}

Deno.test("with retries: 0, the claims a kill -9 interrupted run again and end done", async () => {
  await using t = await tempDb();
  await using ws = await Workspace.create({
    "h.ts": HANGS_ONCE,
    hang: "",
    "jobs.yaml": jobsYaml(t.path, ["a", "b"]),
  });
  const run = startJobs(ws, ["run"]);
  await waitFor("both handlers to start", async () => (await ws.lines("calls.log")).length === 2);
  run.child.kill("SIGKILL");
  assert.equal((await exited(run, "the killed run")).signal, "SIGKILL");
  await Deno.remove(ws.path("hang"));
  const next = await ws.jobs(["run"]);
  assert.equal(next.code, EXIT.ok, next.stderr);
  assert.deepEqual(await statusMap(t.db, "j"), { a: "s=done", b: "s=done" });
  const detail = await t.db.getItemDetail({ jobId: "j", key: "a" });
  assert.deepEqual(
    detail?.stages.map((s) => [s.status, s.attempts, s.crashes]),
    [["done", 1, 1]],
  );
  const item = await ws.jobs(["item", "-j", "j", "a"]);
  assert.match(item.stdout, /\n {2}stage +status +attempts +crashes .*\n {2}s +done +1 +1 /);
});

Deno.test(`a handler that kills its worker every time ends failed after ${MAX_CRASHES} crashes`, async () => {
  await using t = await tempDb();
  await using ws = await Workspace.create({
    "h.ts": KILLS_ITS_WORKER,
    "jobs.yaml": jobsYaml(t.path, ["a"]),
  });
  // A process killed by SIGKILL exits 128 + 9.
  let killed = 0;
  let last;
  for (let run = 0; run <= MAX_CRASHES + 1; run++) {
    last = await ws.jobs(["run"]);
    if (last.code !== 137) break;
    killed++;
  }
  assert.equal(killed, MAX_CRASHES, last?.stderr);
  assert.equal(last?.code, EXIT.failed, last?.stderr);
  assert.deepEqual(await ws.lines("calls.log"), Array(MAX_CRASHES).fill("a"));
  const detail = await t.db.getItemDetail({ jobId: "j", key: "a" });
  assert.deepEqual(detail?.stages.map((s) => [s.status, s.crashes, s.error]), [[
    "failed",
    MAX_CRASHES,
    `Gave up after ${MAX_CRASHES} attempts that never finished: each time the process running ` +
    "it died or lost its lease",
  ]]);
});

Deno.test("a claim waiting in the queue of a run that an item kills again and again is not failed with it", async () => {
  await using t = await tempDb();
  // One at a time, with the next claim queued: b waits behind a in every run a kills.
  await using ws = await Workspace.create({
    "h.ts": A_KILLS_ITS_WORKER,
    "jobs.yaml": jobsYaml(t.path, ["a", "b", "c", "d"], 1),
  });
  const codes: number[] = [];
  for (let run = 0; run <= MAX_CRASHES + 1; run++) {
    const result = await ws.jobs(["run"]);
    codes.push(result.code);
    if (result.code !== 137) break;
  }
  assert.deepEqual(codes, [...Array(MAX_CRASHES).fill(137), EXIT.failed]);
  assert.deepEqual(await ws.lines("calls.log"), [...Array(MAX_CRASHES).fill("a"), "b", "c", "d"]);
  const stages = async (key: string) =>
    (await t.db.getItemDetail({ jobId: "j", key }))?.stages.map((s) => [s.status, s.crashes]);
  assert.deepEqual(await stages("a"), [["failed", MAX_CRASHES]]);
  // b was in flight at the first kill (it may have been running), only queued at the others.
  assert.deepEqual(await stages("b"), [["done", 1]]);
  assert.deepEqual(await stages("c"), [["done", 0]]);
  assert.deepEqual(await stages("d"), [["done", 0]]);
});
