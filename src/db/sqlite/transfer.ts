/** SQLite: a whole store's rows out and in, for `migrate`. */
import {
  BOOLEAN_COLUMNS,
  type Impl,
  type RowBatch,
  TRANSFER_COLUMNS,
  type TransferStore,
  type TransferTable,
} from "../store.ts";
import type { SqliteConn } from "./connection.ts";
import { recountSql } from "./schema.ts";

/** The transfer area of the SQLite store. */
export function sqliteTransfer(s: SqliteConn): Impl<TransferStore> {
  return {
    isStoreEmpty: () => isStoreEmpty(s),
    exportRows: (batchSize) => exportRows(s, batchSize),
    importRows: (batches) => importRows(s, batches),
  };
}

/** Options of copyStore(). */
export interface CopyStoreOptions {
  /** Replace whatever the target holds instead of refusing a non-empty one. Default false. */
  replace?: boolean;
  /** Rows read and written at a time. Default 5000. */
  batchSize?: number;
}

function isStoreEmpty(s: SqliteConn): boolean {
  const tables = Object.keys(TRANSFER_COLUMNS);
  const used = tables.some((t) => s.stmt(`SELECT 1 FROM ${t} LIMIT 1`).get() !== undefined);
  return !used;
}

function exportRows(s: SqliteConn, batchSize = 5000): AsyncGenerator<RowBatch> {
  return exportSqlite(s, batchSize);
}

async function* exportSqlite(s: SqliteConn, batchSize: number): AsyncGenerator<RowBatch> {
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

async function importRows(
  s: SqliteConn,
  batches: AsyncIterable<RowBatch>,
): Promise<Record<string, number>> {
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
