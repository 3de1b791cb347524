/**
 * Runner benchmark: 20,000 items through 3 no-op module stages with runJob(), beside a raw
 * node:sqlite loop doing the same claims and done-marks in the same run; then peak RSS of the
 * runner at 20,000 and 200,000 items, each measured in its own child process.
 */
import type { Store } from "../src/db/store.ts";
import { getHeapSpaceStatistics } from "node:v8";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/types.ts";
import { openDb } from "../src/db/mod.ts";
import { RAW_BATCH, rawLoop } from "./_raw.ts";

import {
  CHILD_PERMISSIONS,
  CONCURRENCY,
  ITEMS,
  runWorkload,
  seedItems,
  STAGES,
  writeWorkspace,
} from "./_workload.ts";

/** The figures of one benchRunner() run. */
export interface RunnerBenchFigures {
  items: number;
  itemsPerSec: number;
  transitionsPerSec: number;
  /** The raw node:sqlite loop on the same workload. */
  rawTransitionsPerSec: number;
  /** How many times slower the runner is than the raw loop. */
  slowdown: number;
  peakRssSmallMb: number;
  peakRssLargeMb: number;
  /** Peak RSS at LARGE items ÷ peak RSS at SMALL items. */
  rssGrowth: number;
  /** Each target with whether it was met. */
  targets: { name: string; met: boolean }[];
}

const MEMORY_SMALL = 20_000;
const MEMORY_LARGE = 200_000;
const RSS_SAMPLE_MS = 20;

/** A folder with jobs.yaml, the no-op handler and a store seeded with `n` items. */
export async function prepare(dir: string, n: number): Promise<{ yaml: string; dbPath: string }> {
  const yaml = await writeWorkspace(dir);
  const dbPath = `${dir}/jobs.sqlite`;
  await seedItems(dbPath, n);
  return { yaml, dbPath };
}

/** Runs the bench job to the end with runJob(); returns transitions and milliseconds. */
async function runRunner(
  config: Config,
  db: Store,
): Promise<{ transitions: number; ms: number }> {
  const started = performance.now();
  await runWorkload(config, db);
  const ms = performance.now() - started;
  const stats = await db.stageStats("bench");
  return { transitions: stats.reduce((n, s) => n + s.done, 0), ms };
}

/** Peak sizes (bytes) seen by a memory child: RSS and V8's young and old generations. */
interface MemoryPeaks {
  rss: number;
  newSpace: number;
  oldSpace: number;
  /** Live heap after a full garbage collection at the end of the run. */
  liveAfterGc?: number;
}

function sampleMemory(peaks: MemoryPeaks): void {
  peaks.rss = Math.max(peaks.rss, Deno.memoryUsage().rss);
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") {
      peaks.newSpace = Math.max(peaks.newSpace, space.space_size);
    }
    if (space.space_name === "old_space") {
      peaks.oldSpace = Math.max(peaks.oldSpace, space.space_size);
    }
  }
}

/** Child-process side of the memory figure: runs the job while sampling memory; prints JSON. */
async function memoryChild(yaml: string, dbPath: string): Promise<void> {
  const config = await loadConfig(yaml);
  const db = await openDb(dbPath);
  const peaks: MemoryPeaks = { rss: 0, newSpace: 0, oldSpace: 0 };
  sampleMemory(peaks);
  const sampler = setInterval(() => sampleMemory(peaks), RSS_SAMPLE_MS);
  const { transitions, ms } = await runRunner(config, db);
  clearInterval(sampler);
  sampleMemory(peaks);
  await db.close();
  // The child runs with --expose-gc so that what stays alive can be told from garbage.
  (globalThis as { gc?: () => void }).gc?.();
  peaks.liveAfterGc = Deno.memoryUsage().heapUsed;
  console.log(JSON.stringify({ ...peaks, transitions, ms }));
}

/** Peak memory of a runner process working through `n` items. */
async function peakMemory(dir: string, n: number): Promise<MemoryPeaks> {
  const { yaml, dbPath } = await prepare(dir, n);
  const self = fileURLToPath(import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...CHILD_PERMISSIONS,
      "--v8-flags=--expose-gc",
      self,
      "--memory-child",
      yaml,
      dbPath,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`Memory run of ${n} items failed (exit ${out.code})`);
  const result = JSON.parse(new TextDecoder().decode(out.stdout)) as MemoryPeaks & {
    transitions: number;
  };
  if (result.transitions !== n * STAGES.length) {
    throw new Error(`Memory run of ${n} items did ${result.transitions} transitions`);
  }
  return result;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Runs the runner benchmark, prints its figures and returns them. */
export async function benchRunner(): Promise<RunnerBenchFigures> {
  const log = (line: string) => console.log(line);
  const root = await Deno.makeTempDir({ prefix: "jobs-runner-bench-" });
  try {
    const { yaml, dbPath } = await prepare(`${root}/runner`, ITEMS);
    const raw = await prepare(`${root}/raw`, ITEMS);
    const config = await loadConfig(yaml);
    const db = await openDb(dbPath);
    const runner = await runRunner(config, db);
    await db.close();
    const baseline = rawLoop(raw.dbPath, { id: "bench", stages: STAGES });
    const expected = ITEMS * STAGES.length;
    if (runner.transitions !== expected || baseline.transitions !== expected) {
      throw new Error(
        `Expected ${expected} transitions, got ${runner.transitions} (runner), ` +
          `${baseline.transitions} (raw)`,
      );
    }
    const transitionsPerSec = (runner.transitions / runner.ms) * 1000;
    const rawTransitionsPerSec = (baseline.transitions / baseline.ms) * 1000;
    const slowdown = rawTransitionsPerSec / transitionsPerSec;
    const smallPeaks = await peakMemory(`${root}/memory-small`, MEMORY_SMALL);
    const largePeaks = await peakMemory(`${root}/memory-large`, MEMORY_LARGE);
    const [small, large] = [smallPeaks.rss, largePeaks.rss];
    const figures: RunnerBenchFigures = {
      items: ITEMS,
      itemsPerSec: (ITEMS / runner.ms) * 1000,
      transitionsPerSec,
      rawTransitionsPerSec,
      slowdown,
      peakRssSmallMb: small / 2 ** 20,
      peakRssLargeMb: large / 2 ** 20,
      rssGrowth: large / small,
      targets: [
        { name: "≥ 25,000 stage transitions/s", met: transitionsPerSec >= 25_000 },
        { name: "≤ 3× slower than the raw loop", met: slowdown <= 3 },
        { name: "peak RSS at 200k ≤ 1.3× peak at 20k", met: large / small <= 1.3 },
      ],
    };
    log(
      `runner: ${fmt(ITEMS)} items × ${STAGES.length} no-op module stages, concurrency ` +
        `${CONCURRENCY}: ${fmt(figures.itemsPerSec)} items/s, ${fmt(transitionsPerSec)} ` +
        `transitions/s`,
    );
    log(
      `raw node:sqlite loop (claims of ${RAW_BATCH}, batched done-marks): ` +
        `${fmt(rawTransitionsPerSec)} transitions/s; runner is ${fmt(slowdown, 2)}× slower`,
    );
    log(
      `peak RSS: ${fmt(figures.peakRssSmallMb, 1)} MB at ${fmt(MEMORY_SMALL)} items, ` +
        `${fmt(figures.peakRssLargeMb, 1)} MB at ${fmt(MEMORY_LARGE)} items ` +
        `(${fmt(figures.rssGrowth, 2)}×)`,
    );
    const mb = (bytes: number) => fmt(bytes / 2 ** 20, 1);
    log(
      `V8 heap peaks: young generation ${mb(smallPeaks.newSpace)} → ${mb(largePeaks.newSpace)} ` +
        `MB, old generation ${mb(smallPeaks.oldSpace)} → ${mb(largePeaks.oldSpace)} MB; ` +
        `live heap after the run ${mb(smallPeaks.liveAfterGc!)} → ${
          mb(largePeaks.liveAfterGc!)
        } MB`,
    );
    for (const t of figures.targets) log(`${t.met ? "met   " : "MISSED"} ${t.name}`);
    return figures;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--memory-child") await memoryChild(Deno.args[1], Deno.args[2]);
  else await benchRunner();
}
