/**
 * A batch that does not fill starts once its first claim has waited `wait`, on the run's clock
 * (injected here): not before, however often the worker looks for more work.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { Budget } from "../../src/runner/budget.ts";
import { loadHandler } from "../../src/runner/handlers.ts";
import { OutcomeWriter } from "../../src/runner/outcome_writer.ts";
import { Pacer } from "../../src/runner/pacer.ts";
import { Resources } from "../../src/runner/resources.ts";
import { stageWorker } from "../../src/runner/stage_worker.ts";
import { silentLogger } from "../../src/util/log.ts";
import { tempDb } from "../db/_helpers.ts";
import {
  countingClaims,
  fakeClock,
  runInProcess,
  statusMap,
  waitFor,
  Workspace,
} from "./_helpers.ts";

const LOGS_CALLS = `export default function handle(items) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    items.map((i) => i.key).join(",") + "\\n", { append: true });
  return Object.fromEntries(items.map((i) => [i.key, { kind: "result", result: null }]));
}
`;

Deno.test("a batch that does not fill starts when its first claim has waited `wait`", async () => {
  await using t = await tempDb();
  await using ws = await Workspace.create({
    "h.ts": LOGS_CALLS,
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }, { key: b }] }
    stages:
      - { name: s, handler: ./h.ts, batch: { size: 3, wait: 10s } }
`,
  });
  const clock = fakeClock();
  await runInProcess(ws, t.db, "j", { now: clock.now, ctx: { discoverOnly: true } });
  const config = await loadConfig(ws.path("jobs.yaml"));
  const [job] = config.jobs;
  const { store, claims } = countingClaims(t.db);
  const writer = new OutcomeWriter({ db: store, jobId: "j", runId: "r", now: clock.now });
  await t.db.registerRun({ runId: "r" });
  const stop = new AbortController();
  const pacer = new Pacer();
  const worker = stageWorker({
    job,
    stage: job.stages[0],
    handler: await loadHandler(job.stages[0], config.dir, { log: silentLogger, closeGraceMs: 0 }),
    ctx: {
      mode: "production",
      db: store,
      runId: "r",
      log: silentLogger,
      signal: stop.signal,
      discoverOnly: false,
      singlePass: false,
      now: clock.now,
    },
    writer,
    pacer,
    resources: new Resources(config.resources, pacer),
    budget: new Budget(job, store, silentLogger, clock.now),
    leaseMs: 60_000,
    hardSignal: new AbortController().signal,
    upstream: null,
    halted: () => false,
    onStray: () => {},
    idlePollMs: 1,
    jobStages: new Map([[job.id, job.stages.map((s) => s.name)]]),
  });
  try {
    await waitFor("50 looks for more work", () => claims() >= 50);
    clock.advance(9_999);
    const looked = claims();
    await waitFor("50 more looks", () => claims() >= looked + 50);
    assert.deepEqual(await ws.lines("calls.log"), []);
    clock.advance(1);
    await waitFor("the batch to run", async () => (await ws.lines("calls.log")).length > 0);
    assert.deepEqual(await ws.lines("calls.log"), ["a,b"]);
    await writer.flush();
    assert.deepEqual(await statusMap(t.db, "j"), { a: "s=done", b: "s=done" });
  } finally {
    stop.abort();
    await worker;
  }
});
