import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { assertValidatorsPerJob, makeItems, SQLITE_ONLY, tempDb } from "./_helpers.ts";
import { openDb } from "../../src/db/mod.ts";
import { connect } from "../../src/db/sqlite/mod.ts";
import { SCHEMA_VERSION } from "../../src/db/sqlite/schema.ts";
import { StoreError } from "../../src/util/errors.ts";

/** Reads a PRAGMA of the file through a connection of its own. */
function filePragma(path: string, name: string): unknown {
  const conn = new DatabaseSync(path);
  try {
    return Object.values(conn.prepare(`PRAGMA ${name}`).get()!)[0];
  } finally {
    conn.close();
  }
}

Deno.test(
  "a new database is migrated to SCHEMA_VERSION, recorded in user_version",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.close();
    assertEquals(SCHEMA_VERSION >= 1, true);
    assertEquals(filePragma(t.path, "user_version"), SCHEMA_VERSION);
  },
);

Deno.test("reopening a migrated database keeps its version and its data", SQLITE_ONLY, async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(3) });
  await t.db.close();
  const again = await openDb(t.path);
  try {
    assertEquals(filePragma(t.path, "user_version"), SCHEMA_VERSION);
    assertEquals((await again.stageStats("j"))[0].pending, 3);
    assertEquals(
      await again.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(3) }),
      { inserted: 0, updated: 0, unchanged: 3 },
    );
  } finally {
    await again.close();
  }
});

Deno.test(
  "a database newer than the program is refused with a clear message",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.close();
    const conn = new DatabaseSync(t.path);
    conn.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    conn.close();
    await assertRejects(openDb(t.path), (err: Error) => {
      assertEquals(err instanceof StoreError, true);
      assertEquals(
        err.message,
        `Database "${t.path}" has schema version ${SCHEMA_VERSION + 1}, newer than this ` +
          `program's ${SCHEMA_VERSION}: upgrade jobctl before using it`,
      );
      return true;
    });
    // Nothing was changed by the refused open.
    assertEquals(filePragma(t.path, "user_version"), SCHEMA_VERSION + 1);
  },
);

Deno.test(
  "a read-only open of an unmigrated database is refused, and never creates one",
  SQLITE_ONLY,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "jobs-test-" });
    try {
      const path = `${dir}/old.sqlite`;
      new DatabaseSync(path).close();
      await assertRejects(openDb(path, { readOnly: true }), {
        name: "StoreError",
        message: `Database "${path}" has schema version 0, expected ${SCHEMA_VERSION}: ` +
          `open it once without read-only to migrate it`,
      });
      const missing = `${dir}/missing.sqlite`;
      await assertRejects(openDb(missing, { readOnly: true }), (err: Error) => {
        assertEquals(err.name, "StoreError");
        assertEquals(err.message.startsWith(`Cannot open database "${missing}": `), true);
        return true;
      });
      assertEquals(await Deno.stat(missing).then(() => true, () => false), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "the store runs in WAL mode with foreign keys and a busy timeout",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    assertEquals(filePragma(t.path, "journal_mode"), "wal");
    const pragma = (conn: DatabaseSync, name: string) =>
      Object.values(conn.prepare(`PRAGMA ${name}`).get()!)[0];
    const store = connect(t.path);
    const custom = connect(t.path, { busyTimeoutMs: 1234 });
    try {
      assertEquals(pragma(store.conn, "foreign_keys"), 1);
      assertEquals(pragma(store.conn, "busy_timeout"), 30_000);
      assertEquals(pragma(custom.conn, "busy_timeout"), 1234);
    } finally {
      store.close();
      custom.close();
    }
  },
);

Deno.test(
  "a file that is not a database is refused with a StoreError naming it",
  SQLITE_ONLY,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "jobs-test-" });
    try {
      const path = `${dir}/notes.sqlite`;
      await Deno.writeTextFile(path, "these are my notes, not a database ".repeat(100));
      await assertRejects(openDb(path), (err: Error) => {
        assertEquals(err.name, "StoreError");
        assertEquals(
          err.message,
          `Cannot open database "${path}": it is damaged (file is not a database)`,
        );
        assertEquals((err as StoreError).problem, "damaged");
        return true;
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "a database of the version before crashes were counted gets the columns, 0 for every stage",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(2) });
    await t.db.close();
    const conn = new DatabaseSync(t.path);
    // The crashes column came one migration before validators were kept per job, two before
    // starts were noted.
    conn.exec("ALTER TABLE item_stages DROP COLUMN started");
    conn.exec("ALTER TABLE item_stages DROP COLUMN crashes");
    conn.exec(`PRAGMA user_version = ${SCHEMA_VERSION - 3}`);
    conn.close();
    const again = await openDb(t.path);
    try {
      assertEquals(filePragma(t.path, "user_version"), SCHEMA_VERSION);
      const claims = await again.claimBatch({
        jobId: "j",
        stage: "a",
        runId: "r",
        limit: 5,
        leaseMs: 1000,
      });
      assertEquals(claims.map((c) => [c.attempts, c.crashes]), [[1, 0], [1, 0]]);
      await again.markStarted({ runId: "r", items: [claims[0]] });
    } finally {
      await again.close();
    }
    const read = new DatabaseSync(t.path, { readOnly: true });
    try {
      const rows = read.prepare("SELECT started FROM item_stages ORDER BY item_id").all();
      assertEquals(rows.map((r) => r.started), [1, 0]);
    } finally {
      read.close();
    }
  },
);

Deno.test(
  "a database whose validators were kept per URL drops them for per-job ones",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.close();
    const conn = new DatabaseSync(t.path);
    conn.exec(`DROP TABLE http_cache;
      CREATE TABLE http_cache (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,
        checked_at INTEGER NOT NULL);
      INSERT INTO http_cache VALUES ('https://a.test/feed', '"1"', NULL, 1);
      ALTER TABLE item_stages DROP COLUMN started;`);
    conn.exec(`PRAGMA user_version = ${SCHEMA_VERSION - 2}`);
    conn.close();
    const again = await openDb(t.path);
    try {
      assertEquals(filePragma(t.path, "user_version"), SCHEMA_VERSION);
      await assertValidatorsPerJob(again);
    } finally {
      await again.close();
    }
  },
);
