/**
 * The yardstick of the store benchmarks: the same upserts and claim → done loops as the store
 * does, written as plain node:sqlite statements. It imports nothing of the project, so that a
 * process running it (bench/raw_process.ts) starts as lean as raw node:sqlite can.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** The job a raw loop works on: its id and its stages in order. */
export interface RawJob {
  id: string;
  stages: readonly string[];
}

const UPSERT_CHUNK = 5000;
/** Claims per raw loop transaction. */
export const RAW_BATCH = 64;

/** A raw connection to a file that already has the store's schema, set up as openDb() does. */
export function rawConnect(path: string): DatabaseSync {
  const conn = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 30_000 });
  conn.exec("PRAGMA journal_mode = WAL");
  conn.exec("PRAGMA synchronous = NORMAL");
  return conn;
}

/** `statement` made to return rows as arrays of their columns, as the store's many-row reads do. */
export function asArrays(statement: StatementSync): StatementSync {
  (statement as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  return statement;
}

export function inTx<T>(conn: DatabaseSync, fn: () => T): T {
  conn.exec("BEGIN IMMEDIATE");
  const value = fn();
  conn.exec("COMMIT");
  return value;
}

/** The raw upsert: 5,000 items a transaction, then a row per stage of the new ones. */
export function rawUpsert(
  conn: DatabaseSync,
  list: readonly { key: string; data: unknown }[],
  now: number,
  job: RawJob,
): void {
  inTx(conn, () => {
    const stage = conn.prepare(
      "INSERT OR IGNORE INTO job_stages (job_id, stage, position) VALUES (?, ?, ?)",
    );
    job.stages.forEach((name, i) => stage.run(job.id, name, i));
  });
  // The same statement technique as the store: each chunk as one JSON array.
  const upsert = asArrays(conn.prepare(
    `INSERT INTO work_items (job_id, key, data, discovered_at, updated_at)
     SELECT ?, value ->> 0, value ->> 1, ?, ? FROM json_each(?) WHERE true
     ON CONFLICT (job_id, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
     WHERE work_items.data IS NOT excluded.data RETURNING id`,
  ));
  const stages = conn.prepare(
    `INSERT INTO item_stages (item_id, job_id, stage, position, ready)
     SELECT w.id, w.job_id, js.stage, js.position, js.position = 0
     FROM work_items w JOIN job_stages js ON js.job_id = w.job_id WHERE +w.job_id = ? AND w.id > ?`,
  );
  const maxId = conn.prepare("SELECT coalesce(max(id), 0) AS m FROM work_items");
  for (let i = 0; i < list.length; i += UPSERT_CHUNK) {
    inTx(conn, () => {
      const before = (maxId.get() as { m: number }).m;
      const chunk = list.slice(i, i + UPSERT_CHUNK);
      const rows = chunk.map((item) => [item.key, JSON.stringify(item.data)]);
      upsert.all(job.id, now, now, JSON.stringify(rows));
      stages.run(job.id, before);
    });
  }
}

/** The raw loop: per stage, claim 64 per UPDATE … RETURNING, commit each batch's done-marks. */
export function rawLoop(path: string, job: RawJob): { transitions: number; ms: number } {
  const conn = rawConnect(path);
  const claim = asArrays(conn.prepare(
    `UPDATE item_stages SET status = 'in_progress', claimed_by = 'raw', lease_until = :lease,
       attempts = attempts + 1, started_at = :now
     WHERE rowid IN (SELECT rowid FROM item_stages WHERE job_id = :job AND stage = :stage
       AND status = 'pending' AND ready = 1 AND run_after <= :now ORDER BY run_after LIMIT :n)
     RETURNING item_id, position`,
  ));
  const data = asArrays(conn.prepare(
    "SELECT id, key, data FROM work_items WHERE id IN (SELECT value FROM json_each(?))",
  ));
  const finish = conn.prepare(
    `UPDATE item_stages SET status = 'done', finished_at = ?, claimed_by = NULL, lease_until = NULL
     WHERE item_id = ? AND stage = ? AND status = 'in_progress' AND claimed_by = 'raw'`,
  );
  const store = conn.prepare(
    `INSERT INTO results (item_id, stage, handler_version, result, created_at) VALUES (?, ?, '1', ?, ?)
     ON CONFLICT (item_id, stage) DO UPDATE SET result = excluded.result`,
  );
  const ready = conn.prepare("UPDATE item_stages SET ready = 1 WHERE item_id = ? AND position = ?");
  let transitions = 0;
  const started = performance.now();
  for (const stage of job.stages) {
    while (true) {
      const now = Date.now();
      const claimed = inTx(conn, () => {
        const rows = claim.all({
          lease: now + 300_000,
          now,
          job: job.id,
          stage,
          n: RAW_BATCH,
        }) as unknown as [number, number][];
        const items = rows.length
          ? data.all(JSON.stringify(rows.map(([itemId]) => itemId))) as unknown as [
            number,
            string,
          ][]
          : [];
        const keys = new Map(items.map(([id, key]) => [id, key]));
        return rows.map(([itemId, position]) => ({ itemId, position, key: keys.get(itemId)! }));
      });
      if (claimed.length === 0) break;
      inTx(conn, () => {
        for (const c of claimed) {
          if (finish.run(now, c.itemId, stage).changes !== 1) continue;
          store.run(c.itemId, stage, JSON.stringify({ key: c.key }), now);
          ready.run(c.itemId, c.position + 1);
          transitions++;
        }
      });
    }
  }
  const ms = performance.now() - started;
  conn.close();
  return { transitions, ms };
}
