/**
 * The heartbeat never has two beats in flight: on a store that is slow to answer (its rows
 * locked by another session or process), the next beat waits for the previous one. On
 * PostgreSQL too when JOBS_TEST_PG_URL is set.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import type { Store } from "../../src/db/store.ts";
import { startHeartbeat } from "../../src/runner/heartbeat.ts";
import { silentLogger } from "../../src/util/log.ts";
import { makeItems, tempDb, TEST_PG_URL } from "../db/_helpers.ts";
import { waitFor } from "./_helpers.ts";

const LEASE_MS = 300;

/** `db` with its renewLeases() calls counted: started, in flight now, most in flight at once. */
function counting(db: Store) {
  const beats = { started: 0, inFlight: 0, maxInFlight: 0 };
  const renewLeases: Store["renewLeases"] = async (options) => {
    beats.started++;
    beats.maxInFlight = Math.max(beats.maxInFlight, ++beats.inFlight);
    try {
      return await db.renewLeases(options);
    } finally {
      beats.inFlight--;
    }
  };
  const store = new Proxy(db, {
    get: (target, name) => {
      if (name === "renewLeases") return renewLeases;
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store, beats };
}

/** Locks the store's stage rows from another PostgreSQL session until release() is called. */
async function pgLock(url: string): Promise<{ release(): Promise<void> }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => locked = resolve);
  const tx = sql.begin(async (tx) => {
    await tx`SELECT 1 FROM item_stages FOR UPDATE`;
    locked();
    await released;
  });
  await holding;
  return {
    async release() {
      release();
      await tx;
      await sql.end();
    },
  };
}

/** Locks the SQLite file from another process for `ms` (this process's store waits meanwhile). */
async function sqliteLock(path: string, ms: number): Promise<{ release(): Promise<void> }> {
  const script = `import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(${JSON.stringify(path)});
db.exec("BEGIN EXCLUSIVE");
console.log("locked");
setTimeout(() => { db.exec("COMMIT"); db.close(); }, ${ms});`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  assert.equal(value?.trim(), "locked");
  return {
    async release() {
      await reader.cancel();
      await child.status;
    },
  };
}

Deno.test("a beat does not start while the previous one waits for a slow store", async () => {
  await using t = await tempDb();
  await t.db.upsertItems({ jobId: "j", stages: ["s"], items: makeItems(3) });
  await t.db.registerRun({ runId: "r" });
  await t.db.claimBatch({ jobId: "j", stage: "s", runId: "r", limit: 3, leaseMs: LEASE_MS });
  const { store, beats } = counting(t.db);
  const lock = TEST_PG_URL ? await pgLock(t.path) : await sqliteLock(t.path, 1000);
  // Ticks at the heartbeat's interval whenever the event loop is free.
  let ticks = 0;
  const canary = setInterval(() => ticks++, LEASE_MS / 3);
  const heartbeat = startHeartbeat(
    { db: store, runId: "r", log: silentLogger, now: Date.now },
    LEASE_MS,
  );
  let released = false;
  try {
    await waitFor("the first beat to start", () => beats.started >= 1);
    const from = ticks;
    await waitFor("ten heartbeat intervals to pass", () => ticks - from >= 10);
    assert.equal(beats.maxInFlight, 1);
    released = true;
    await lock.release();
    await waitFor("beats to go on once the store answers", () => beats.started >= 3);
  } finally {
    heartbeat.stop();
    clearInterval(canary);
    // Beats that wait for the lock end once it is gone, so that the store can close.
    if (!released) await lock.release();
  }
  assert.equal(beats.maxInFlight, 1);
});
