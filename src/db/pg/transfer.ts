/** PostgreSQL: a whole store's rows out and in, for `migrate`. */
import {
  type Impl,
  type RowBatch,
  TRANSFER_COLUMNS,
  type TransferStore,
  type TransferTable,
} from "../store.ts";
import type { PgConn, Sql } from "./connection.ts";

/** The Transfer area of the PostgreSQL store. */
export function pgTransfer(db: PgConn): Impl<TransferStore> {
  return {
    isStoreEmpty: () => isStoreEmpty(db),
    exportRows: (batchSize) => exportRows(db, batchSize),
    importRows: (batches) => importRows(db, batches),
  };
}

/** The primary key of each table: export pages through it. */
const KEYS: Record<TransferTable, readonly string[]> = {
  job_stages: ["job_id", "stage"],
  work_items: ["id"],
  item_stages: ["item_id", "stage"],
  results: ["item_id", "stage"],
  events: ["id"],
  job_state: ["job_id"],
  runs: ["run_id"],
  http_cache: ["job_id", "url"],
  cost_totals: ["day_start", "job_id", "stage"],
  stage_run_totals: ["job_id", "stage", "outcome"],
  alert_outbox: ["id"],
  alert_cooldowns: ["job_id", "kind"],
  source_holds: ["scope", "target"],
};

async function isStoreEmpty(db: PgConn): Promise<boolean> {
  const { sql } = db;
  const probes = Object.keys(TRANSFER_COLUMNS).map((t) =>
    sql`SELECT EXISTS (SELECT 1 FROM ${sql(t)}) AS used`
  );
  const rows = await Promise.all(probes);
  return rows.every(([row]) => !row.used);
}

/** Pages of each table in primary key order. */
async function* exportRows(db: PgConn, batchSize = 5000): AsyncGenerator<RowBatch> {
  const { sql } = db;
  for (const [name, columns] of Object.entries(TRANSFER_COLUMNS)) {
    const table = name as TransferTable;
    const keys = KEYS[table];
    let after: unknown[] | undefined;
    while (true) {
      const from = after
        ? sql`WHERE (${sql(keys)}) > (${
          after.map((v) => sql`${v as string}`).reduce((a, b) => sql`${a}, ${b}`)
        })`
        : sql``;
      const rows = await sql<Record<string, unknown>[]>`
        SELECT ${sql(columns)} FROM ${sql(table)} ${from}
        ORDER BY ${sql(keys)} LIMIT ${batchSize}`;
      if (rows.length === 0) break;
      const last = rows.at(-1)!;
      after = keys.map((k) => last[k]);
      yield { table, rows: rows.map((r) => ({ ...r })) };
    }
  }
}

/** One transaction; identities are moved past the copied ids. */
function importRows(db: PgConn, batches: AsyncIterable<RowBatch>): Promise<Record<string, number>> {
  return db.tx(async (sql) => {
    await sql`TRUNCATE ${sql(Object.keys(TRANSFER_COLUMNS))} RESTART IDENTITY`;
    const counts: Record<string, number> = {};
    for await (const { table, rows } of batches) {
      await insertRows(sql, table, rows);
      counts[table] = (counts[table] ?? 0) + rows.length;
    }
    for (const table of ["work_items", "events", "alert_outbox"]) {
      await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'),
        (SELECT coalesce(max(id), 0) + 1 FROM ${sql(table)}), false)`;
    }
    return counts;
  });
}

async function insertRows(sql: Sql, table: TransferTable, rows: Record<string, unknown>[]) {
  const columns = TRANSFER_COLUMNS[table];
  // Sent as text: a parameter typed json would be serialised a second time by the driver.
  const json = JSON.stringify(rows);
  await sql`
    INSERT INTO ${sql(table)} (${sql(columns)})
    SELECT ${sql(columns)} FROM json_populate_recordset(NULL::${sql(table)}, ${json}::text::json)`;
}
