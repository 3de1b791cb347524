/**
 * The runner benchmarks' workload, shared by the SQLite and PostgreSQL benchmarks: one job of
 * no-op module stages, its jobs.yaml and handler, seeding, and one single-pass run of it.
 */
import type { Store } from "../src/db/store.ts";
import type { Config } from "../src/config/types.ts";
import { openDb } from "../src/db/mod.ts";

import { Pacer } from "../src/runner/pacer.ts";
import { Resources } from "../src/runner/resources.ts";
import { runJob, runnerSettings } from "../src/runner/run_job.ts";
import { guardHandlers } from "../src/runner/handler_guard.ts";
import { silentLogger } from "../src/util/log.ts";

/** The stages every item goes through. */
export const STAGES = ["a", "b", "c"];
/** Items of the throughput measurements. */
export const ITEMS = 20_000;
/** Concurrency of every stage. */
export const CONCURRENCY = 16;
/** Permissions of benchmark child processes: the same explicit flags as the tasks. */
export const CHILD_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

const SEED_CHUNK = 10_000;

const NOOP_HANDLER = `export const HANDLER_VERSION = "1";
export default function handle(item) {
  return { key: item.key };
}
`;

/**
 * Writes jobs.yaml and the no-op handler into `dir`; returns the jobs.yaml path. `discovery` is
 * the job's discovery (YAML flow mapping); by default one static item, as the items are seeded.
 */
export async function writeWorkspace(
  dir: string,
  discovery = "{ strategy: static, items: [{ key: item-0 }] }",
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const stages = STAGES.map((name) =>
    `      - { name: ${name}, handler: ./noop.js, concurrency: ${CONCURRENCY} }`
  );
  const yaml = `${dir}/jobs.yaml`;
  await Deno.writeTextFile(
    yaml,
    `jobs:
  bench:
    discovery: ${discovery}
    stages:
${stages.join("\n")}
`,
  );
  await Deno.writeTextFile(`${dir}/noop.js`, NOOP_HANDLER);
  return yaml;
}

/** Seeds the store at `location` (a SQLite path or a postgres:// URL) with `n` items. */
export async function seedItems(location: string, n: number): Promise<void> {
  const db = await openDb(location);
  try {
    for (let from = 0; from < n; from += SEED_CHUNK) {
      const items = Array.from({ length: Math.min(SEED_CHUNK, n - from) }, (_, i) => ({
        key: `item-${from + i}`,
        data: { url: `https://example.org/posts/${from + i}`, n: from + i },
      }));
      await db.upsertItems({ jobId: "bench", stages: STAGES, items });
    }
  } finally {
    await db.close();
  }
}

/** Runs the bench job once to the end (single pass, production) as this process. */
export async function runWorkload(config: Config, db: Store): Promise<void> {
  const runId = `bench:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
  await db.registerRun({ runId });
  const pacer = new Pacer();
  // As in `jobs run`: module handlers run under the guard that keeps them from ending the run.
  const unguard = guardHandlers({ onUnscoped: (error) => console.error(error) });
  try {
    await runJob(
      config.jobs[0],
      runnerSettings(config),
      pacer,
      new Resources(config.resources, pacer),
      {
        mode: "production",
        db,
        runId,
        log: silentLogger,
        signal: new AbortController().signal,
        discoverOnly: false,
        singlePass: true,
        now: Date.now,
      },
    );
  } finally {
    unguard();
  }
}
