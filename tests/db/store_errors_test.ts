/**
 * The store's one boundary, on both engines: every method answers with a Promise, and what the
 * driver says about a locked, full or damaged database reaches callers as a StoreError.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { admin, makeItems, PG_ONLY, SQLITE_ONLY, tempDb } from "./_helpers.ts";
import { openDb } from "../../src/db/mod.ts";
import { StoreError } from "../../src/util/errors.ts";

/** Every method of the store and arguments it accepts. */
const CALLS: Record<string, unknown[]> = {
  syncStages: [{ jobId: "j", stages: ["a"] }],
  upsertItems: [{ jobId: "j", stages: ["a"], items: makeItems(1) }],
  listItems: [{ jobId: "j" }],
  claimBatch: [{ jobId: "j", stage: "a", runId: "r", limit: 1, leaseMs: 1000 }],
  getJobState: ["j"],
  logEvent: [{ kind: "note", message: "m" }],
  getEvents: [{}],
  stageStats: ["j"],
  getItemDetail: [{ jobId: "j", key: "k1" }],
  isStoreEmpty: [],
};

Deno.test("every store method answers with a Promise, also when it fails", async () => {
  await using t = await tempDb();
  const methods = Object.entries(t.db).filter(([, v]) => typeof v === "function");
  assert(methods.length > 50, `${methods.length} methods`);
  await t.db.close();
  for (const [name, method] of methods) {
    if (name === "close") continue;
    let answer: unknown;
    try {
      answer = name === "exportRows"
        ? (method as () => AsyncGenerator<unknown>)().next()
        : (method as (...args: unknown[]) => unknown)(...(CALLS[name] ?? [{ jobId: "j" }]));
    } catch (err) {
      throw new Error(`${name}() threw at once instead of rejecting: ${err}`);
    }
    assert(answer instanceof Promise, `${name}() did not return a Promise`);
    await answer.then(() => {}, () => {});
  }
});

Deno.test(
  "a write to a SQLite file another process holds locked rejects with a StoreError",
  SQLITE_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(2) });
    const impatient = await openDb(t.path, { busyTimeoutMs: 50 });
    const holder = new DatabaseSync(t.path);
    try {
      holder.exec("BEGIN IMMEDIATE");
      const err = await impatient.pauseJob("j", "by hand").then(() => null, (e) => e);
      assert(err instanceof StoreError, String(err));
      assertEquals(err.problem, "locked");
      assertEquals(
        err.message,
        `Cannot change the job's pause: database "${t.path}" is locked by another process ` +
          "(database is locked)",
      );
      holder.exec("ROLLBACK");
      // Nothing recorded before was lost, and the store works once the lock is gone.
      await impatient.pauseJob("j", "by hand");
      assertEquals((await impatient.getJobState("j")).paused, true);
      assertEquals((await impatient.stageStats("j"))[0].pending, 2);
    } finally {
      holder.close();
      await impatient.close();
    }
  },
);

Deno.test("a damaged SQLite file rejects reads with a StoreError", SQLITE_ONLY, async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(500) });
  await t.db.close();
  await damage(t.path);
  const err = await openDb(t.path).then(
    (db) => db.listItems({ jobId: "j", limit: 1000 }).finally(() => db.close()),
  ).then(() => null, (e) => e);
  assert(err instanceof StoreError, String(err));
  assertEquals(err.problem, "damaged");
  assert(/^Cannot (list items|open database ".*"): .*damaged/.test(err.message), err.message);
});

Deno.test(
  "a full disk rejects a SQLite write with a StoreError and keeps what was recorded",
  { ignore: SQLITE_ONLY.ignore || Deno.uid() !== 0 },
  async () => {
    await using disk = await smallDisk("2m");
    const db = await openDb(`${disk.dir}/jobs.sqlite`);
    try {
      await db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(10) });
      const big = { text: "x".repeat(100_000) };
      let err: unknown;
      for (let i = 0; i < 100 && !err; i++) {
        const items = [{ key: `big${i}`, data: big }];
        err = await db.upsertItems({ jobId: "j", stages: ["a"], items }).then(() => null, (e) => e);
      }
      assert(err instanceof StoreError, String(err));
      assertEquals(err.problem, "full");
      assert(err.message.startsWith("Cannot record discovered items: database "), err.message);
      assert(err.message.endsWith("cannot grow: the disk is full (database or disk is full)"));
      const listed = await db.listItems({ jobId: "j", limit: 1000 });
      assertEquals(listed.slice(0, 10).map((i) => i.key), makeItems(10).map((i) => i.key));
    } finally {
      await db.close();
    }
  },
);

Deno.test(
  "a PostgreSQL row another session holds locked rejects a write with a StoreError",
  PG_ONLY,
  async () => {
    await using t = await tempDb();
    await t.db.upsertItems({ jobId: "j", stages: ["a"], items: makeItems(2) });
    await t.db.markJobRun({ jobId: "j", now: 1 });
    const impatient = await openDb(t.path, { busyTimeoutMs: 50 });
    try {
      let err: unknown;
      await admin(t.path, async (sql) => {
        await sql.begin(async (tx) => {
          await tx`SELECT * FROM job_state WHERE job_id = 'j' FOR UPDATE`;
          err = await impatient.pauseJob("j").then(() => null, (e) => e);
        });
      });
      assert(err instanceof StoreError, String(err));
      assertEquals(err.problem, "locked");
      assert(err.message.startsWith("Cannot change the job's pause: database "), err.message);
      assertEquals((await impatient.stageStats("j"))[0].pending, 2);
    } finally {
      await impatient.close();
    }
  },
);

/** Overwrites pages in the middle of the file, as a failing disk would. */
async function damage(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true });
  try {
    const { size } = await file.stat();
    // The middle half of the pages: items, their stage rows and their indexes live there.
    const pages = Math.floor(size / 4096);
    await file.seek(Math.floor(pages / 4) * 4096, Deno.SeekMode.Start);
    await file.write(new Uint8Array(Math.ceil(pages / 2) * 4096).fill(0x5a));
  } finally {
    file.close();
  }
}

/** A tmpfs of `size` mounted on a new folder, unmounted and removed on dispose. */
async function smallDisk(size: string): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "jobs-full-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
  })
    .output();
  if (!mount.success) throw new Error(`mount failed: ${new TextDecoder().decode(mount.stderr)}`);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
