/** SQLite DDL and numbered migrations; the schema version lives in PRAGMA user_version. */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../../util/errors.ts";

/** Rebuilds the counters of the jobs matching `where` (a condition on job_id) from the rows. */
export function recountSql(where: string): string {
  return `
  DELETE FROM stage_counts WHERE ${where};
  INSERT INTO stage_counts (job_id, stage, status, n)
    SELECT js.job_id, js.stage, st.value, (SELECT count(*) FROM item_stages i
      WHERE i.job_id = js.job_id AND i.stage = js.stage AND i.status = st.value)
    FROM (SELECT job_id, stage FROM job_stages WHERE ${where}) js,
      json_each('["pending", "in_progress", "done", "failed", "skipped"]') st;
  DELETE FROM done_items WHERE ${where};
  INSERT INTO done_items (job_id, n)
    SELECT job_id, count(*) FROM (
      SELECT job_id FROM item_stages WHERE ${where} GROUP BY job_id, item_id
      HAVING sum(status NOT IN ('done', 'skipped')) = 0)
    GROUP BY job_id;`;
}

/** Migration N (1-based) brings a database from user_version N-1 to N. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE work_items (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    discovered_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (job_id, key)
  );

  -- The current pipeline of each job; item_stages rows follow it.
  CREATE TABLE job_stages (
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    position INTEGER NOT NULL,
    handler_version TEXT,
    PRIMARY KEY (job_id, stage)
  );

  -- ready = 1 when the previous stage of the item is done or skipped (always for position 0),
  -- so a claim reads only claimable rows through item_stages_claim.
  CREATE TABLE item_stages (
    item_id INTEGER NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
      CHECK (status IN ('pending', 'in_progress', 'done', 'failed', 'skipped')),
    ready INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    lease_until INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    error TEXT,
    PRIMARY KEY (item_id, stage)
  );
  CREATE INDEX item_stages_claim ON item_stages (job_id, stage, run_after)
    WHERE status = 'pending' AND ready = 1;
  CREATE INDEX item_stages_claimed ON item_stages (claimed_by, lease_until)
    WHERE status = 'in_progress';
  CREATE INDEX item_stages_finished ON item_stages (job_id, stage, finished_at)
    WHERE finished_at IS NOT NULL;

  CREATE VIEW item_derived_status AS
  SELECT
    wi.id AS item_id,
    wi.job_id,
    CASE
      WHEN EXISTS (SELECT 1 FROM item_stages s WHERE s.item_id = wi.id AND s.status = 'failed')
        THEN 'failed'
      WHEN NOT EXISTS (SELECT 1 FROM item_stages s
                       WHERE s.item_id = wi.id AND s.status NOT IN ('done', 'skipped'))
        THEN 'done'
      WHEN EXISTS (SELECT 1 FROM item_stages s
                   WHERE s.item_id = wi.id AND s.status = 'in_progress')
        THEN 'in_progress'
      ELSE 'pending'
    END AS derived_status
  FROM work_items wi;

  CREATE TABLE results (
    item_id INTEGER NOT NULL REFERENCES work_items (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    handler_version TEXT,
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, stage)
  );

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    job_id TEXT,
    item_id INTEGER,
    stage TEXT,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT,
    cost_usd REAL
  );
  CREATE INDEX events_job_ts ON events (job_id, ts);
  CREATE INDEX events_item ON events (item_id) WHERE item_id IS NOT NULL;
  CREATE INDEX events_cost ON events (ts, job_id) WHERE cost_usd IS NOT NULL;

  CREATE TABLE job_state (
    job_id TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT,
    paused_at INTEGER,
    wake_requested_at INTEGER,
    last_discovery_at INTEGER,
    last_run_at INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    discovery_owner TEXT,
    discovery_lease_until INTEGER
  );

  -- Every process that claims work; claimed_by points here so a dead local process
  -- can be recognised by host, pid and the pid's start time.
  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    started_at INTEGER NOT NULL
  );

  CREATE TABLE http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    checked_at INTEGER NOT NULL
  );
  `,
  // Results by stage and version: counting stale results reads only the other versions' entries.
  `
  CREATE INDEX results_version ON results (stage, handler_version, item_id);
  `,
  // Counters kept exact in the same transaction as each status change, so status pages read a
  // few rows instead of every stage row: stage rows by status (a row for every status of every
  // stage) and items whose stages are all done or skipped. The statements that change
  // statuses move them once per batch (see _counts.ts).
  `
  CREATE TABLE stage_counts (
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (job_id, stage, status)
  ) WITHOUT ROWID;
  CREATE TABLE done_items (
    job_id TEXT PRIMARY KEY,
    n INTEGER NOT NULL
  ) WITHOUT ROWID;
  ${recountSql("1")}
  -- Failure clusters and the dashboard's cost chart read only these slices.
  CREATE INDEX item_stages_failed ON item_stages (job_id, stage, item_id, error)
    WHERE status = 'failed';
  CREATE INDEX events_job_cost ON events (job_id, ts, cost_usd) WHERE cost_usd IS NOT NULL;
  `,
  // Operating for months: what retention leaves of pruned cost events, counters for metrics,
  // the alert outbox, and what tells a crashed run from a finished one.
  `
  -- Cost events removed by retention, summed per UTC day, job and stage ('' for none).
  CREATE TABLE cost_totals (
    day_start INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    usd REAL NOT NULL,
    events INTEGER NOT NULL,
    items INTEGER NOT NULL,
    PRIMARY KEY (day_start, job_id, stage)
  );
  -- Finished attempts per stage and outcome since the store was made (Prometheus counters).
  CREATE TABLE stage_run_totals (
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    outcome TEXT NOT NULL,
    runs INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (job_id, stage, outcome)
  );
  -- Alerts written with what caused them, removed once every target has them. group_key
  -- gathers the permanent failures of one run and stage into one alert.
  CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_key TEXT UNIQUE,
    message TEXT NOT NULL,
    data TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    delivered TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  CREATE TABLE alert_cooldowns (
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    released_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, kind)
  );
  ALTER TABLE job_state ADD COLUMN discovery_failures INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE job_state ADD COLUMN discovery_failures_total INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE job_state ADD COLUMN last_new_item_at INTEGER;
  ALTER TABLE runs ADD COLUMN jobs TEXT;
  ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
  ALTER TABLE runs ADD COLUMN ended_at INTEGER;
  ALTER TABLE runs ADD COLUMN outcome TEXT;
  -- Runs from before this version cannot tell how they ended; none is reported as crashed.
  UPDATE runs SET ended_at = started_at, outcome = 'unknown';
  CREATE INDEX runs_open ON runs (host) WHERE ended_at IS NULL;
  -- Retention removes the oldest events first, whatever their job.
  CREATE INDEX events_ts ON events (ts);
  `,
  // Sources that fail or ask for less: per URL (or, after a 429, per host) when discovery may
  // read it again and why, shared by every process on the store.
  `
  CREATE TABLE source_holds (
    scope TEXT NOT NULL CHECK (scope IN ('url', 'host')),
    target TEXT NOT NULL,
    host TEXT NOT NULL,
    job_id TEXT NOT NULL,
    failures INTEGER NOT NULL,
    until_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    error TEXT,
    skip_hours TEXT NOT NULL,
    skip_days TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scope, target)
  );
  CREATE INDEX source_holds_job ON source_holds (job_id);
  `,
  // Fan-out: an item a stage emitted records the item whose stage emitted it.
  `
  ALTER TABLE work_items ADD COLUMN parent_id INTEGER REFERENCES work_items (id) ON DELETE SET NULL;
  CREATE INDEX work_items_parent ON work_items (parent_id) WHERE parent_id IS NOT NULL;
  `,
  // Events of a kind (and job) in id order, for the dashboard's and events' filters by kind; the
  // id is the rowid, which every index ends with.
  `
  CREATE INDEX events_kind_job ON events (kind, job_id);
  `,
  `
  -- Attempts that ended with their process or lease, not with an outcome of the handler.
  ALTER TABLE item_stages ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
  `,
  // Validators per job and under the job's discovery options: a URL two jobs read was answered
  // 304 for the second, and changed options were not applied until the source changed. The old
  // rows belong to no job; without them each source is read once in full.
  `
  DROP TABLE http_cache;
  CREATE TABLE http_cache (
    job_id TEXT NOT NULL,
    url TEXT NOT NULL,
    options_hash TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, url)
  );
  `,
  // A claim that crashed before is marked as its handler starts, so that a crash counts for it
  // only when it ran: a claim waiting in the dead run's queue did not.
  `
  ALTER TABLE item_stages ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
  `,
];

/**
 * Settings a new file takes before its first table: pages freed by deletes go back to the file
 * system in steps (PRAGMA incremental_vacuum) instead of staying in the file for good.
 */
export function prepareNewFile(conn: DatabaseSync): void {
  const tables = conn.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
  if (tables.n === 0 && schemaVersion(conn) === 0) conn.exec("PRAGMA auto_vacuum = INCREMENTAL");
}

/** The schema version this program writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; refuses a database newer than the code. */
export function migrate(conn: DatabaseSync, location: string, readOnly: boolean): void {
  const current = schemaVersion(conn);
  const versions = { found: current, expected: SCHEMA_VERSION };
  if (current > SCHEMA_VERSION) {
    throw new StoreError(
      `Database "${location}" has schema version ${current}, newer than this program's ` +
        `${SCHEMA_VERSION}: upgrade jobctl before using it`,
      { problem: "schema", versions },
    );
  }
  if (current === SCHEMA_VERSION) return;
  if (readOnly) {
    throw new StoreError(
      `Database "${location}" has schema version ${current}, expected ${SCHEMA_VERSION}: ` +
        `open it once without read-only to migrate it`,
      { problem: "schema", versions },
    );
  }
  conn.exec("BEGIN IMMEDIATE");
  try {
    // Another process may have migrated while this one waited for the lock.
    for (let v = schemaVersion(conn); v < SCHEMA_VERSION; v++) {
      conn.exec(MIGRATIONS[v]);
      conn.exec(`PRAGMA user_version = ${v + 1}`);
    }
    conn.exec("COMMIT");
  } catch (err) {
    conn.exec("ROLLBACK");
    throw err;
  }
}

/** The database's PRAGMA user_version. */
export function schemaVersion(conn: DatabaseSync): number {
  const row = conn.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}
