/**
 * Dashboard benchmark: each page's render time, and collectStatus(), on a job of 1,000,000 items
 * × 3 stages in a mature state (30 days of history, failures, a cost event per item). The state
 * is written with raw node:sqlite statements: driving 3M transitions through claims would take
 * minutes, and the point is the size of the tables the pages read, not how they got there.
 */
import type { Store } from "../src/db/store.ts";
import { DatabaseSync } from "node:sqlite";

import { loadConfig } from "../src/config/load.ts";
import { collectStatus } from "../src/status/report.ts";
import type { PageContext } from "../src/dashboard/context.ts";
import { CostHistory } from "../src/dashboard/cost_history.ts";

import type { Config } from "../src/config/types.ts";
import { renderItemPage } from "../src/dashboard/item_page.ts";
import { renderItemsPage } from "../src/dashboard/items_page.ts";
import { renderJobPage } from "../src/dashboard/job_page.ts";
import { renderOverview } from "../src/dashboard/overview_page.ts";
import { openDb } from "../src/db/mod.ts";
import { recountSql } from "../src/db/sqlite/schema.ts";

/** One timed page (or status) render. */
export interface DashboardFigure {
  name: string;
  /** The first render in a fresh context. */
  first: number;
  /** Median of the RUNS renders after it. */
  median: number;
  target: string;
  met: boolean;
}

const ITEMS = 1_000_000;
const JOB = "feed";
const STAGES = ["fetch", "parse", "store"];
const DAY_MS = 86_400_000;
const HISTORY_DAYS = 30;
const RUNS = 5;
const TARGET_MS = 500;

const JOBS_YAML = `jobs:
  ${JOB}:
    description: 1,000,000 posts, 30 days of history
    discovery: { strategy: static, items: [{ key: a }], every: 1h }
    budget: { daily_usd: 50 }
    stages:
${STAGES.map((s) => `      - { name: ${s}, handler: builtin:fetch }`).join("\n")}
  small:
    discovery: { strategy: static, items: [{ key: b }] }
    handler: builtin:fetch
`;

// Item i (1-based) was discovered at START + i * STEP and went through its stages at once.
// i % 100 < 90: every stage done; 90–94: failed at parse; 95–99: waiting at parse; the newest
// 200 are in progress at fetch. Durations vary with i and are shorter at later stages. The
// results are of the version the stages are configured with, as a run records it.
const SEED_SQL = `
  INSERT INTO job_stages (job_id, stage, position, handler_version) VALUES
    (:job, 'fetch', 0, 'builtin:fetch'), (:job, 'parse', 1, 'builtin:fetch'),
    (:job, 'store', 2, 'builtin:fetch');
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :items)
  INSERT INTO work_items (id, job_id, key, data, discovered_at, updated_at)
  SELECT i, :job, 'post-' || i, json_object('url', 'https://example.org/posts/' || i),
    :start + i * :step, :start + i * :step FROM n;
  WITH s AS (
    SELECT w.id, w.job_id, js.stage, js.position, w.discovered_at AS t,
      CASE
        WHEN w.id > :items - 200 THEN iif(js.position = 0, 'in_progress', 'pending')
        WHEN w.id % 100 < 90 OR js.position = 0 THEN 'done'
        WHEN w.id % 100 < 95 AND js.position = 1 THEN 'failed'
        ELSE 'pending' END AS status,
      CASE WHEN js.position = 0 THEN 1 WHEN w.id > :items - 200 THEN 0
        WHEN w.id % 100 < 90 THEN 1 ELSE js.position = 1 END AS ready
    FROM work_items w JOIN job_stages js ON js.job_id = w.job_id WHERE w.job_id = :job)
  INSERT INTO item_stages (item_id, job_id, stage, position, status, ready, attempts,
    started_at, finished_at, error, claimed_by, lease_until)
  SELECT id, job_id, stage, position, status, ready,
    CASE status WHEN 'pending' THEN 0 WHEN 'failed' THEN 4 ELSE 1 END,
    CASE status WHEN 'pending' THEN NULL WHEN 'in_progress' THEN :now - 1000
      ELSE t + position * 3000 END,
    CASE WHEN status IN ('done', 'failed')
      THEN t + position * 3000 + 20 + (id * 7919) % (400 * (3 - position)) END,
    CASE WHEN status = 'failed' THEN CASE id % 3
      WHEN 0 THEN 'HTTP 500 from https://example.org/posts/' || id
      WHEN 1 THEN 'Timed out after 30000 ms'
      ELSE 'Cannot parse "post-' || id || '": no title' END END,
    iif(status = 'in_progress', 'bench:1:run', NULL),
    iif(status = 'in_progress', :now + 300000, NULL)
  FROM s;
  INSERT INTO results (item_id, stage, handler_version, result, created_at)
  SELECT item_id, stage, 'builtin:fetch', json_object('bytes', item_id % 5000), finished_at
  FROM item_stages WHERE job_id = :job AND status = 'done';
  INSERT INTO events (ts, job_id, item_id, stage, kind, message, cost_usd)
  SELECT finished_at, :job, item_id, stage, 'cost', '$0.0004', 0.0004
  FROM item_stages WHERE job_id = :job AND stage = 'parse' AND status = 'done';
  INSERT INTO events (ts, job_id, item_id, stage, kind, message, data)
  SELECT finished_at, :job, item_id, stage, 'failed', error, json_object('attempts', 4)
  FROM item_stages WHERE job_id = :job AND status = 'failed';
  INSERT INTO job_state (job_id, last_discovery_at, last_run_at) VALUES (:job, :now - 600000, :now - 600000);
`;

async function seed(path: string, now: number): Promise<void> {
  await (await openDb(path)).close();
  const conn = new DatabaseSync(path, { timeout: 30_000 });
  try {
    conn.exec("PRAGMA journal_mode = WAL");
    // A 1 GiB page cache keeps the indexes in memory while 3M stage rows go in.
    conn.exec("PRAGMA cache_size = -1048576");
    conn.exec("BEGIN IMMEDIATE");
    const start = now - HISTORY_DAYS * DAY_MS;
    const params = { job: JOB, items: ITEMS, start, step: Math.floor((now - start) / ITEMS), now };
    // exec() takes no parameters: each statement is prepared and run with the ones it names.
    for (const sql of SEED_SQL.split(/;\s*$/m).filter((s) => s.trim())) {
      const names = new Set([...sql.matchAll(/:(\w+)/g)].map((m) => m[1]));
      const own = Object.fromEntries(Object.entries(params).filter(([k]) => names.has(k)));
      conn.prepare(sql).run(own);
    }
    // Rows inserted directly bypass the store's counter bookkeeping: rebuild the counters.
    conn.exec(recountSql("1"));
    conn.exec("COMMIT");
    conn.exec("ANALYZE");
  } finally {
    conn.close();
  }
}

/** The first call's time, then the median of RUNS more. */
async function time(fn: () => Promise<unknown>): Promise<{ first: number; median: number }> {
  const clock = async () => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const first = await clock();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await clock());
  return { first, median: times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] };
}

async function figure(name: string, fn: () => Promise<unknown>): Promise<DashboardFigure> {
  const { first, median } = await time(fn);
  return {
    name,
    first,
    median,
    target: `≤ ${TARGET_MS} ms`,
    met: Math.max(first, median) <= TARGET_MS,
  };
}

async function measure(db: Store, config: Config, now: number): Promise<DashboardFigure[]> {
  const job = config.jobs.find((j) => j.id === JOB)!;
  // A fresh context per page, so each first render starts with nothing cached.
  const ctx = (): PageContext => ({
    db,
    config,
    csrfToken: "bench",
    now: () => now,
    costHistory: new CostHistory(),
  });
  const page = (render: (c: PageContext) => Promise<unknown>) => {
    const c = ctx();
    return async () => {
      if ((await render(c)) === undefined) {
        throw new Error("A page the benchmark renders is missing");
      }
    };
  };
  return [
    await figure("collectStatus(), every job", () => collectStatus(db, config, { now })),
    await figure(
      "failureClusters(), job page part",
      () => db.failureClusters({ jobId: JOB, limit: 10 }),
    ),
    await figure("overview page", page((c) => renderOverview(c))),
    await figure("job page", page((c) => renderJobPage(c, { jobId: JOB, events: "failures" }))),
    await figure("item page", page((c) => renderItemPage(c, { jobId: JOB, key: "post-90" }))),
    await figure(
      "job page, a kind no event has",
      page((c) => renderJobPage(c, { jobId: JOB, events: "budget" })),
    ),
    await figure(
      "failed items, the page after item 900,000",
      page((c) => renderItemsPage(c, { job, query: { status: "failed", after: 900_000 } })),
    ),
    await figure(
      "pending items, the page before item 900,000",
      page((c) => renderItemsPage(c, { job, query: { status: "pending", before: 900_000 } })),
    ),
  ];
}

function printTable(figures: DashboardFigure[], log: (line: string) => void): void {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rows = figures.map((f) => [
    f.name,
    ms(f.first),
    ms(f.median),
    f.target,
    f.met ? "met" : "MISSED",
  ]);
  const head = ["dashboard, 1M items × 3 stages", "first", `median of ${RUNS} more`, "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [head, ...rows]) {
    log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
}

/** Seeds 1M items × 3 stages in a temporary folder, times each page and status, prints a table. */
export async function benchDashboard(): Promise<DashboardFigure[]> {
  const log = (line: string) => console.log(line);
  const dir = await Deno.makeTempDir({ prefix: "jobs-bench-dashboard-" });
  try {
    await Deno.writeTextFile(`${dir}/jobs.yaml`, JOBS_YAML);
    const path = `${dir}/jobs.sqlite`;
    const now = Date.now();
    const seedStart = performance.now();
    await seed(path, now);
    log(
      `seeded 1,000,000 items × 3 stages, their results and cost events in ${
        ((performance.now() - seedStart) / 1000).toFixed(1)
      } s`,
    );
    const db = await openDb(path);
    try {
      const config = await loadConfig(`${dir}/jobs.yaml`);
      const figures = await measure(db, config, now);
      printTable(figures, log);
      return figures;
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await benchDashboard();
