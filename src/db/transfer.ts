/** Copying a whole store into another (SQLite ⇄ PostgreSQL), for `jobs migrate`. */
import { type Db, sqlite, type SqliteDb } from "./mod.ts";
import * as pg from "./pg/transfer.ts";
import { recountSql } from "./schema.ts";
import { StoreError } from "../util/errors.ts";

/** The columns of every copied table, parents before children. */
export const TRANSFER_COLUMNS = {
  job_stages: ["job_id", "stage", "position", "handler_version"],
  work_items: ["id", "job_id", "key", "data", "discovered_at", "updated_at"],
  item_stages: [
    "item_id",
    "job_id",
    "stage",
    "position",
    "status",
    "ready",
    "attempts",
    "run_after",
    "claimed_by",
    "lease_until",
    "started_at",
    "finished_at",
    "error",
  ],
  results: ["item_id", "stage", "handler_version", "result", "created_at"],
  events: ["id", "ts", "job_id", "item_id", "stage", "kind", "message", "data", "cost_usd"],
  job_state: [
    "job_id",
    "paused",
    "pause_reason",
    "paused_at",
    "wake_requested_at",
    "last_discovery_at",
    "last_run_at",
    "consecutive_failures",
    "discovery_owner",
    "discovery_lease_until",
  ],
  runs: ["run_id", "host", "pid", "pid_start", "started_at"],
  http_cache: ["url", "etag", "last_modified", "checked_at"],
} as const;

/** A table the copy carries. */
export type TransferTable = keyof typeof TRANSFER_COLUMNS;

/** Columns stored as 0/1 on SQLite and as booleans on PostgreSQL; booleans in a RowBatch. */
export const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set(["ready", "paused"]);

/** Rows of one table, column values by name (times in ms, JSON as its text, booleans). */
export interface RowBatch {
  table: TransferTable;
  rows: Record<string, unknown>[];
}

/** Options of copyStore(). */
export interface CopyStoreOptions {
  /** Replace whatever the target holds instead of refusing a non-empty one. Default false. */
  replace?: boolean;
  /** Rows read and written at a time. Default 5000. */
  batchSize?: number;
}

/** Whether the store holds nothing at all: no stage, item, event, job state, run or cache. */
export function isStoreEmpty(db: Db): Promise<boolean> {
  if (db.engine === "postgres") return pg.isStoreEmpty(db);
  const s = sqlite(db);
  const tables = Object.keys(TRANSFER_COLUMNS);
  const used = tables.some((t) => s.stmt(`SELECT 1 FROM ${t} LIMIT 1`).get() !== undefined);
  return Promise.resolve(!used);
}

/** Every row of the store, table by table (parents first), in batches of `batchSize`. */
export function exportRows(db: Db, batchSize = 5000): AsyncGenerator<RowBatch> {
  if (db.engine === "postgres") return pg.exportRows(db, batchSize);
  return exportSqlite(sqlite(db), batchSize);
}

async function* exportSqlite(s: SqliteDb, batchSize: number): AsyncGenerator<RowBatch> {
  for (const [table, columns] of Object.entries(TRANSFER_COLUMNS)) {
    let after = 0;
    while (true) {
      const rows = s.stmt(
        `SELECT rowid AS _rowid, ${columns.join(", ")} FROM ${table}
         WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      ).all(after, batchSize) as Record<string, unknown>[];
      if (rows.length === 0) break;
      after = rows.at(-1)!._rowid as number;
      yield { table: table as TransferTable, rows: rows.map(fromSqlite) };
    }
  }
}

function fromSqlite(row: Record<string, unknown>): Record<string, unknown> {
  const { _rowid: _, ...values } = row;
  for (const column of BOOLEAN_COLUMNS) {
    if (column in values) values[column] = values[column] === 1;
  }
  return values;
}

/**
 * Writes `batches` into the store, which must be empty unless `replace` (then everything in it
 * is deleted first). On PostgreSQL the whole import is one transaction; on SQLite each batch is.
 * Returns the rows written per table.
 */
export function importRows(
  db: Db,
  batches: AsyncIterable<RowBatch>,
  options: { replace?: boolean } = {},
): Promise<Record<string, number>> {
  if (db.engine === "postgres") return pg.importRows(db, batches, options);
  return importSqlite(sqlite(db), batches, options.replace ?? false);
}

async function importSqlite(
  s: SqliteDb,
  batches: AsyncIterable<RowBatch>,
  replace: boolean,
): Promise<Record<string, number>> {
  await refuseUnlessEmpty(s, replace);
  const tables = Object.keys(TRANSFER_COLUMNS).reverse();
  s.tx(() => tables.forEach((t) => s.stmt(`DELETE FROM ${t}`).run()));
  const counts: Record<string, number> = {};
  for await (const { table, rows } of batches) {
    const columns = TRANSFER_COLUMNS[table];
    const insert = s.stmt(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    s.tx(() => {
      for (const row of rows) {
        insert.run(...columns.map((c) => toSqlite(c, row[c])));
      }
    });
    counts[table] = (counts[table] ?? 0) + rows.length;
  }
  // The status counters follow the store's own writes; rows copied in need them rebuilt.
  s.tx(() => {
    for (const sql of recountSql("1").split(";")) if (sql.trim()) s.stmt(sql).run();
  });
  return counts;
}

function toSqlite(column: string, value: unknown): string | number | null {
  if (BOOLEAN_COLUMNS.has(column)) return value ? 1 : 0;
  return (value ?? null) as string | number | null;
}

/** Throws unless the store is empty or `replace` says its content may go. */
export async function refuseUnlessEmpty(db: Db, replace: boolean): Promise<void> {
  if (replace || await isStoreEmpty(db)) return;
  throw new StoreError(
    `Database "${db.location}" is not empty: copying into it would mix two histories`,
  );
}

/** Copies every row of `source` into `target` (see importRows()); returns rows per table. */
export function copyStore(
  source: Db,
  target: Db,
  options: CopyStoreOptions = {},
): Promise<Record<string, number>> {
  return importRows(target, exportRows(source, options.batchSize), { replace: options.replace });
}
