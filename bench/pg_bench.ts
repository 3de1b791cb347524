/**
 * PostgreSQL benchmark: the runner benchmark's workload (20,000 items × 3 no-op module stages,
 * concurrency 16) on a PostgreSQL store with the server's default durability, worked by 1 and
 * then by 3 runner processes at once. Needs JOBS_BENCH_PG_URL (e.g. from `deno task pg start`);
 * each measurement gets a schema of its own, dropped afterwards.
 */
import postgres from "postgres";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/load.ts";
import { openDb } from "../src/db/mod.ts";

import {
  CHILD_PERMISSIONS,
  CONCURRENCY,
  ITEMS,
  runWorkload,
  seedItems,
  STAGES,
  writeWorkspace,
} from "./_workload.ts";

/** One measured figure: stage transitions per second with `processes` runner processes. */
export interface PgBenchFigure {
  processes: number;
  transitions: number;
  ms: number;
  transitionsPerSec: number;
}

/** The figures of one benchPg() run, or null when no server was given. */
export interface PgBenchFigures {
  figures: PgBenchFigure[];
  targets: { name: string; met: boolean }[];
}

const PROCESS_COUNTS = [1, 3];

/** A schema of its own on the server, made the search path of the returned URL. */
async function freshSchema(url: string, name: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
    await sql`CREATE SCHEMA ${sql(name)}`;
  } finally {
    await sql.end();
  }
  const scoped = new URL(url);
  scoped.searchParams.set("search_path", name);
  return scoped.toString();
}

async function dropSchema(url: string, name: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
  } finally {
    await sql.end();
  }
}

/**
 * Child side: loads the job, opens the store, says it is ready, waits for the start file, runs
 * the job to the end with runJob() and prints when it started and finished (epoch ms).
 */
async function child(yaml: string, url: string, ready: string, start: string): Promise<void> {
  const config = await loadConfig(yaml);
  const db = await openDb(url);
  await Deno.writeTextFile(ready, "ready");
  while (!(await Deno.stat(start).then(() => true, () => false))) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const started = Date.now();
  await runWorkload(config, db);
  const finished = Date.now();
  await db.close();
  console.log(JSON.stringify({ started, finished }));
}

/** Runs the seeded job with `processes` child processes at once; returns the figure. */
async function measure(dir: string, url: string, processes: number): Promise<PgBenchFigure> {
  const self = fileURLToPath(import.meta.url);
  const start = `${dir}/start-${processes}`;
  const children = Array.from({ length: processes }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...CHILD_PERMISSIONS,
        self,
        "--child",
        `${dir}/jobs.yaml`,
        url,
        `${dir}/ready-${processes}-${i}`,
        start,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  for (let i = 0; i < processes; i++) {
    while (!(await Deno.stat(`${dir}/ready-${processes}-${i}`).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  await Deno.writeTextFile(start, "go");
  const outputs = await Promise.all(children.map((c) => c.output()));
  const spans = outputs.map((out, i) => {
    if (!out.success) throw new Error(`Runner process ${i + 1} of ${processes} failed`);
    return JSON.parse(new TextDecoder().decode(out.stdout)) as {
      started: number;
      finished: number;
    };
  });
  const ms = Math.max(...spans.map((s) => s.finished)) - Math.min(...spans.map((s) => s.started));
  const transitions = await checkAllDone(url);
  return { processes, transitions, ms, transitionsPerSec: (transitions / ms) * 1000 };
}

/** Every (item, stage) done, each claimed once; returns the number of transitions. */
async function checkAllDone(url: string): Promise<number> {
  const db = await openDb(url);
  try {
    const stats = await db.getJobStats("bench");
    const stages = await db.stageStats("bench");
    const done = stages.reduce((n, s) => n + s.done, 0);
    if (stats.items.done !== ITEMS || done !== ITEMS * STAGES.length) {
      throw new Error(`Expected every item done, got ${JSON.stringify(stats.items)}`);
    }
    return done;
  } finally {
    await db.close();
  }
}

function fmt(n: number): string {
  return n.toLocaleString("en", { maximumFractionDigits: 0 });
}

/** Runs the PostgreSQL benchmark when JOBS_BENCH_PG_URL is set; prints and returns figures. */
export async function benchPg(): Promise<PgBenchFigures | null> {
  const log = (line: string) => console.log(line);
  const url = Deno.env.get("JOBS_BENCH_PG_URL");
  if (!url) {
    log("pg: skipped: set JOBS_BENCH_PG_URL to a PostgreSQL server (deno task pg start)");
    return null;
  }
  const dir = await Deno.makeTempDir({ prefix: "jobs-pg-bench-" });
  const schemas: string[] = [];
  try {
    await writeWorkspace(dir);
    const figures: PgBenchFigure[] = [];
    for (const processes of PROCESS_COUNTS) {
      const schema = `jobs_bench_${processes}_${Deno.pid}`;
      schemas.push(schema);
      const scoped = await freshSchema(url, schema);
      await seedItems(scoped, ITEMS);
      const figure = await measure(dir, scoped, processes);
      figures.push(figure);
      log(
        `${processes} runner process${processes > 1 ? "es" : ""}: ${fmt(ITEMS)} items × ` +
          `${STAGES.length} no-op module stages, concurrency ${CONCURRENCY}: ` +
          `${fmt(figure.transitionsPerSec)} stage transitions/s (${fmt(figure.ms)} ms)`,
      );
    }
    const [one, three] = figures;
    const targets = [
      { name: "≥ 5,000 stage transitions/s with 1 process", met: one.transitionsPerSec >= 5000 },
      {
        name: "more stage transitions/s with 3 processes than with 1",
        met: three.transitionsPerSec > one.transitionsPerSec,
      },
    ];
    for (const t of targets) log(`${t.met ? "met   " : "MISSED"} ${t.name}`);
    return { figures, targets };
  } finally {
    for (const schema of schemas) await dropSchema(url, schema);
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    await child(Deno.args[1], Deno.args[2], Deno.args[3], Deno.args[4]);
  } else {
    await benchPg();
  }
}
