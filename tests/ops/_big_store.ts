/**
 * A big store made quickly for retention tests: statements straight into the tables (as
 * bench/dashboard_bench.ts does), since driving a million events through the runner would take
 * minutes and the point is the size of what is pruned.
 */
import postgres from "postgres";
import { DatabaseSync } from "node:sqlite";
import { isServerUrl } from "../../src/db/location.ts";
import { openDb } from "../../src/db/mod.ts";
import { recountSql } from "../../src/db/sqlite/schema.ts";

/** What the store holds. */
export interface BigStore {
  events: number;
  /** Of the events, cost events: one in ten, spread over the last 30 days. */
  costEvents: number;
  /** Results of job "old" whose stage a reprocess reset: superseded, 60 days old. */
  results: number;
}

const DAY = 86_400_000;

/**
 * Job "old": `results` items, each with a pending stage "s" and a superseded result; `events`
 * events of job "old" spread over the 30 days before `now` minus two hours, every tenth a cost.
 */
export async function seedBigStore(
  location: string,
  sizes: { events: number; results: number; now: number },
): Promise<BigStore> {
  await (await openDb(location)).close();
  const params = { ...sizes, start: sizes.now - 30 * DAY, span: 30 * DAY - 2 * 3_600_000 };
  if (isServerUrl(location)) await seedPg(location, params);
  else seedSqlite(location, params);
  return { events: sizes.events, costEvents: sizes.events / 10, results: sizes.results };
}

type Params = { events: number; results: number; now: number; start: number; span: number };

function seedSqlite(path: string, p: Params): void {
  const conn = new DatabaseSync(path, { timeout: 30_000 });
  try {
    conn.exec("BEGIN IMMEDIATE");
    conn.prepare(`INSERT INTO job_stages (job_id, stage, position) VALUES ('old', 's', 0)`).run();
    conn.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
      INSERT INTO work_items (id, job_id, key, data, discovered_at, updated_at)
      SELECT i, 'old', 'item-' || i, '{}', ?, ? FROM n`).run(p.results, p.start, p.start);
    conn.prepare(`INSERT INTO item_stages (item_id, job_id, stage, position, status, ready)
      SELECT id, 'old', 's', 0, 'pending', 1 FROM work_items WHERE job_id = 'old'`).run();
    conn.prepare(`INSERT INTO results (item_id, stage, handler_version, result, created_at)
      SELECT id, 's', '1', json_object('text', printf('%.200c', 'x')), ? FROM work_items
      WHERE job_id = 'old'`).run(p.start);
    conn.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :events)
      INSERT INTO events (ts, job_id, item_id, stage, kind, message, cost_usd)
      SELECT :start + i * (:span / :events), 'old', 1 + i % :results, 's',
        iif(i % 10 = 0, 'cost', 'retry'), 'event number ' || i, iif(i % 10 = 0, 0.001, NULL)
      FROM n`).run({ events: p.events, start: p.start, span: p.span, results: p.results });
    conn.exec(recountSql("1"));
    conn.exec("COMMIT");
  } finally {
    conn.close();
  }
}

async function seedPg(url: string, p: Params): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO job_stages (job_id, stage, position) VALUES ('old', 's', 0)`;
      await tx`INSERT INTO work_items (id, job_id, key, data, discovered_at, updated_at)
        SELECT i, 'old', 'item-' || i, '{}', ${p.start}, ${p.start}
        FROM generate_series(1, ${p.results}) i`;
      await tx`INSERT INTO item_stages (item_id, job_id, stage, position, status, ready)
        SELECT id, 'old', 's', 0, 'pending', true FROM work_items WHERE job_id = 'old'`;
      await tx`INSERT INTO results (item_id, stage, handler_version, result, created_at)
        SELECT id, 's', '1', json_build_object('text', repeat('x', 200))::text, ${p.start}
        FROM work_items WHERE job_id = 'old'`;
      await tx`INSERT INTO events (ts, job_id, item_id, stage, kind, message, cost_usd)
        SELECT ${p.start}::bigint + i * (${p.span}::bigint / ${p.events}), 'old',
          1 + i % ${p.results}, 's', CASE WHEN i % 10 = 0 THEN 'cost' ELSE 'retry' END,
          'event number ' || i, CASE WHEN i % 10 = 0 THEN 0.001 END
        FROM generate_series(1, ${p.events}) i`;
      await tx`SELECT setval(pg_get_serial_sequence('work_items', 'id'), ${p.results + 1}, false)`;
    });
    await sql`ANALYZE`;
  } finally {
    await sql.end();
  }
}
