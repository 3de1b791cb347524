import assert from "node:assert/strict";
import { join } from "node:path";
// The test builds the user's own database file that the sqlite strategy reads.
import { DatabaseSync } from "node:sqlite";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { schema, SqliteDiscovery } from "../../src/discovery/sqlite.ts";
import { testEnv } from "./_server.ts";

function makeDb(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT, title TEXT, published TEXT);
    INSERT INTO articles VALUES (1, 'https://a.test/1', 'One', '2024-01-01'),
      (2, 'https://a.test/2', 'Two', '2024-02-01'), (3, NULL, 'Three', '2024-03-01');`);
  db.close();
}

Deno.test("sqlite emits the query's rows, keyed by the id column", async () => {
  await using t = await testEnv();
  makeDb(join(t.dir, "source.db"));
  const options = schema.parse({
    path: "source.db",
    query: "SELECT id, url, title FROM articles WHERE published >= '2024-02-01' ORDER BY id",
  });
  const result = await new SqliteDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items], [
    { key: "2", data: { id: 2, url: "https://a.test/2", title: "Two" } },
    { key: "3", data: { id: 3, url: null, title: "Three" } },
  ]);
});

Deno.test("sqlite opens the file read-only: a writing query fails and changes nothing", async () => {
  await using t = await testEnv();
  const path = join(t.dir, "source.db");
  makeDb(path);
  const options = schema.parse({ path: "source.db", query: "DELETE FROM articles RETURNING id" });
  const err = await new SqliteDiscovery(options, t.env).discover().catch((e) => e);
  assert.ok(err instanceof DiscoveryError);
  assert.equal(err.message, `Cannot query "${path}": attempt to write a readonly database`);
  const check = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual({ ...check.prepare("SELECT count(*) AS n FROM articles").get() }, { n: 3 });
  check.close();
});

Deno.test("sqlite reports a missing file and a bad query", async () => {
  await using t = await testEnv();
  makeDb(join(t.dir, "source.db"));
  const missing = schema.parse({ path: "nope.db", query: "SELECT 1 AS id" });
  const err = await new SqliteDiscovery(missing, t.env).discover().catch((e) => e);
  assert.equal(
    err.message,
    `Cannot query "${join(t.dir, "nope.db")}": unable to open database file`,
  );
  const bad = schema.parse({ path: "source.db", query: "SELECT nope FROM articles" });
  const err2 = await new SqliteDiscovery(bad, t.env).discover().catch((e) => e);
  assert.equal(err2.message, `Cannot query "${join(t.dir, "source.db")}": no such column: nope`);
});
