/**
 * Worker benchmark: one Python no-op handler run as a worker stage (long-lived processes over
 * the worker protocol) and as a per-item command stage (one process per item), in the same run.
 */
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.ts";
import { openDb } from "../src/db/mod.ts";
import { WorkerPool } from "../src/runner/worker_pool.ts";
import { silentLogger } from "../src/util/log.ts";
import { runWorkload } from "./_workload.ts";

/** The figures of one benchWorker() run. */
export interface WorkerBenchFigures {
  workerItemsPerSec: number;
  commandItemsPerSec: number;
  /** The same processes fed by a loop without the runner or the store: the protocol's ceiling. */
  poolItemsPerSec: number;
  /** Worker items/s ÷ command items/s. */
  ratio: number;
  targets: { name: string; met: boolean }[];
}

/** Enough for a few seconds of each. */
const WORKER_ITEMS = 10_000;
const COMMAND_ITEMS = 20;
const CONCURRENCY = 8;
const TARGET_ITEMS_PER_SEC = 2_000;

// One handler for both: with --worker it serves items through jobs_worker.py, else it answers
// the one item of the command protocol.
const NOOP_PY = `import json, sys

def handle(item, ctx=None):
    return {"key": item["key"]}

if __name__ == "__main__":
    if "--worker" in sys.argv:
        import jobs_worker
        jobs_worker.serve(handle)
    else:
        json.dump(handle(json.load(sys.stdin)["item"]), sys.stdout)
`;

const HELPER = fileURLToPath(new URL("../workers/jobs_worker.py", import.meta.url));

/** Runs `n` items through one stage running `command` (`worker: true` when `worker`); items/s. */
async function itemsPerSec(
  dir: string,
  command: string,
  worker: boolean,
  n: number,
): Promise<number> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/noop.py`, NOOP_PY);
  await Deno.copyFile(HELPER, `${dir}/jobs_worker.py`);
  const yaml = `${dir}/jobs.yaml`;
  await Deno.writeTextFile(
    yaml,
    `jobs:
  bench:
    discovery: { strategy: static, items: [{ key: item-0 }] }
    stages:
      - { name: noop, command: ${command},${
      worker ? " worker: true," : ""
    } concurrency: ${CONCURRENCY} }
`,
  );
  const db = await openDb(`${dir}/jobs.sqlite`);
  try {
    const items = Array.from({ length: n }, (_, i) => ({ key: `item-${i}`, data: { n: i } }));
    await db.upsertItems({ jobId: "bench", stages: ["noop"], items });
    const started = performance.now();
    await runWorkload(await loadConfig(yaml), db);
    const ms = performance.now() - started;
    const [stats] = await db.stageStats("bench");
    if (stats.done !== n) throw new Error(`${command}: ${stats.done} of ${n} items done`);
    return (n / ms) * 1000;
  } finally {
    await db.close();
  }
}

/** `n` items straight through a WorkerPool of the worker stage's program: no store, no runner. */
async function poolItemsPerSec(dir: string, n: number): Promise<number> {
  const pool = new WorkerPool({
    argv: ["python3", "noop.py", "--worker"],
    cwd: dir,
    stage: "noop",
    concurrency: CONCURRENCY,
    closeGraceMs: 5000,
    log: silentLogger,
  });
  const signal = new AbortController().signal;
  const context = { job: "bench", stage: "noop", mode: "production", attempt: 1 };
  const call = (i: number) =>
    pool.run({
      request: { item: { key: `item-${i}`, data: { n: i } }, results: {}, context },
      signal,
      log: silentLogger,
      cost: () => {},
    });
  try {
    // Started before the clock, as the worker stage's processes are by then.
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => call(i)));
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await call(next++);
    }));
    return (n / (performance.now() - started)) * 1000;
  } finally {
    await pool.close();
  }
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Runs the worker benchmark, prints its figures and returns them. */
export async function benchWorker(): Promise<WorkerBenchFigures> {
  const root = await Deno.makeTempDir({ prefix: "jobs-worker-bench-" });
  try {
    const workerItemsPerSec = await itemsPerSec(
      `${root}/worker`,
      "[python3, noop.py, --worker]",
      true,
      WORKER_ITEMS,
    );
    const commandItemsPerSec = await itemsPerSec(
      `${root}/command`,
      "[python3, noop.py]",
      false,
      COMMAND_ITEMS,
    );
    const ratio = workerItemsPerSec / commandItemsPerSec;
    const poolItems = await poolItemsPerSec(`${root}/worker`, WORKER_ITEMS);
    const figures: WorkerBenchFigures = {
      workerItemsPerSec,
      commandItemsPerSec,
      poolItemsPerSec: poolItems,
      ratio,
      targets: [{
        name: `≥ ${fmt(TARGET_ITEMS_PER_SEC)} items/s for the worker stage`,
        met: workerItemsPerSec >= TARGET_ITEMS_PER_SEC,
      }],
    };
    console.log(
      `Python no-op, concurrency ${CONCURRENCY}: worker stage ${fmt(workerItemsPerSec)} items/s ` +
        `(${fmt(WORKER_ITEMS)} items), command stage ${fmt(commandItemsPerSec, 1)} items/s ` +
        `(${fmt(COMMAND_ITEMS)} items, one process each); the worker stage is ` +
        `${fmt(ratio, 0)}× faster`,
    );
    console.log(
      `the same worker processes fed by a bare loop (no runner, no store): ` +
        `${fmt(poolItems)} items/s; the worker stage reaches ${
          fmt(workerItemsPerSec / poolItems, 2)
        }× of it`,
    );
    // On a shared machine the figure follows the load: a round trip needs both processes to run.
    const [load] = Deno.loadavg();
    console.log(
      `load average over the last minute: ${fmt(load, 1)} on ${navigator.hardwareConcurrency} CPUs`,
    );
    for (const t of figures.targets) console.log(`${t.met ? "met   " : "MISSED"} ${t.name}`);
    return figures;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await benchWorker();
