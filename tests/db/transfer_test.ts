import type { RowBatch, Store } from "../../src/db/store.ts";
import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { PG_ONLY, scratchSchema, tempDb, TEST_PG_URL } from "./_helpers.ts";
import { seedStore } from "./_seed.ts";
import { openDb } from "../../src/db/mod.ts";

/** Every row of the store, by table (each engine exports in its own order, so sorted). */
async function dump(db: Store): Promise<Record<string, Record<string, unknown>[]>> {
  const tables: Record<string, Record<string, unknown>[]> = {};
  for await (const { table, rows } of db.exportRows(7)) {
    tables[table] = [...(tables[table] ?? []), ...rows];
  }
  const text = (row: Record<string, unknown>) => JSON.stringify(row);
  for (const rows of Object.values(tables)) rows.sort((a, b) => text(a) < text(b) ? -1 : 1);
  return tables;
}

/** A fresh SQLite store in the test's folder. */
async function sqliteStore(dir: string, name: string): Promise<Store> {
  return await openDb(`${dir}/${name}.sqlite`);
}

Deno.test("copyStore() copies every row of every table, ids and times kept", async () => {
  await using t = await tempDb();
  await seedStore(t.db);
  const target = await sqliteStore(t.dir, "copy");
  try {
    assertEquals(await target.isStoreEmpty(), true);
    const counts = await t.db.copyTo(target, { batchSize: 6 });
    const source = await dump(t.db);
    assertEquals(await dump(target), source);
    assertEquals(counts, Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v.length])));
    assertEquals(
      [
        counts.work_items,
        counts.item_stages,
        counts.results,
        counts.job_state,
        counts.runs,
        counts.source_holds,
      ],
      [45, 125, 60, 2, 1, 1],
    );
    assertEquals(await target.isStoreEmpty(), false);
    for (const job of ["news", "other"]) {
      assertEquals(await target.getJobStats(job), await t.db.getJobStats(job));
    }
  } finally {
    await target.close();
  }
});

Deno.test("importRows() refuses a store that is not empty, and replaces it when told", async () => {
  await using t = await tempDb();
  await seedStore(t.db);
  const target = await sqliteStore(t.dir, "busy");
  try {
    await target.upsertItems({ jobId: "mine", stages: ["s"], items: [{ key: "x", data: {} }] });
    await assertRejects(t.db.copyTo(target), {
      name: "StoreError",
      message:
        `Database "${target.location}" is not empty: copying into it would mix two histories`,
    });
    assertEquals((await dump(target)).work_items.map((r) => r.job_id), ["mine"]);
    await t.db.copyTo(target, { replace: true });
    assertEquals(await dump(target), await dump(t.db));
  } finally {
    await target.close();
  }
});

Deno.test(
  "a store copied from SQLite into PostgreSQL holds the same rows and carries on",
  PG_ONLY,
  async () => {
    await using t = await tempDb();
    const source = await sqliteStore(t.dir, "source");
    const scratch = await scratchSchema(TEST_PG_URL!);
    const target = await openDb(scratch.url);
    try {
      await seedStore(source);
      await source.copyTo(target);
      const rows = await dump(source);
      assertEquals(await dump(target), rows);
      assertEquals(await target.getJobStats("news"), await source.getJobStats("news"));
      // New rows get ids after the copied ones.
      const id = await target.logEvent({ kind: "note", message: "after the move" });
      assertEquals(id, Math.max(...rows.events.map((e) => e.id as number)) + 1);
      await target.upsertItems({
        jobId: "news",
        stages: ["fetch", "parse", "store"],
        items: [{ key: "new", data: {} }],
      });
      const ids = (await dump(target)).work_items.map((w) => w.id as number);
      assertEquals(Math.max(...ids), Math.max(...rows.work_items.map((w) => w.id as number)) + 1);
      // And back into SQLite, which gets what PostgreSQL now holds.
      const back = await sqliteStore(t.dir, "back");
      try {
        await target.copyTo(back);
        assertEquals(await dump(back), await dump(target));
        assertEquals(await back.getJobStats("news"), await target.getJobStats("news"));
        assertEquals((await back.getEvents({ limit: 1 }))[0].message, "after the move");
      } finally {
        await back.close();
      }
    } finally {
      await target.close();
      await source.close();
      await scratch.drop();
    }
  },
);

/** Two batches of events with the same id: the second insert fails. */
async function* clashingEvents(): AsyncGenerator<RowBatch> {
  yield { table: "events", rows: [{ id: 1, ts: 1, kind: "k", message: "m" }] };
  yield { table: "events", rows: [{ id: 1, ts: 1, kind: "k", message: "again" }] };
}

Deno.test("an import into PostgreSQL that fails leaves the target as it was", PG_ONLY, async () => {
  const scratch = await scratchSchema(TEST_PG_URL!);
  const target = await openDb(scratch.url);
  try {
    await assertRejects(target.importRows(clashingEvents()), /duplicate key/);
    assertEquals(await target.isStoreEmpty(), true);
  } finally {
    await target.close();
    await scratch.drop();
  }
});
