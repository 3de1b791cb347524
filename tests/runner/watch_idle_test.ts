/**
 * An idle --watch worker keeps what it holds flat: polling for work thousands of times adds no
 * listener to the outcome writer (it used to add one per poll, freed only by a flush).
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
import { countingClaims, waitFor, Workspace } from "./_helpers.ts";

const POLLS = 2000;

Deno.test(`an idle --watch worker holds one writer listener over ${POLLS} polls`, async () => {
  await using t = await tempDb();
  await using ws = await Workspace.create({
    "h.ts": "export default () => ({});\n",
    "jobs.yaml": `jobs:
  j:
    discovery: { strategy: static, items: [{ key: a }] }
    stages:
      - { name: s, handler: ./h.ts }
`,
  });
  const config = await loadConfig(ws.path("jobs.yaml"));
  const [job] = config.jobs;
  const { store, claims } = countingClaims(t.db);
  const writer = new OutcomeWriter({ db: store, jobId: "j", runId: "r", now: Date.now });
  // Counts the listeners the worker holds at each moment.
  let listeners = 0;
  let most = 0;
  const subscribe = writer.onChange.bind(writer);
  writer.onChange = (listener) => {
    most = Math.max(most, ++listeners);
    const unsubscribe = subscribe(listener);
    return () => {
      listeners--;
      unsubscribe();
    };
  };
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
      now: Date.now,
    },
    writer,
    pacer,
    resources: new Resources(config.resources, pacer),
    budget: new Budget(job, store, silentLogger, Date.now),
    leaseMs: 60_000,
    hardSignal: new AbortController().signal,
    upstream: null,
    halted: () => false,
    onStray: () => {},
    idlePollMs: 0,
    jobStages: new Map([[job.id, job.stages.map((s) => s.name)]]),
  });
  try {
    await waitFor(`${POLLS} idle polls`, () => claims() >= POLLS, 60_000);
    assert.equal(listeners, 1);
  } finally {
    stop.abort();
    await worker;
  }
  assert.deepEqual([most, listeners], [1, 0]);
});
