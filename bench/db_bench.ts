/**
 * Store benchmarks: upserts, claim → done cycles and status counts, each beside raw node:sqlite
 * doing the same work in the same run. The raw loops are the yardstick, so they hold SQL here.
 */
import type { Store } from "../src/db/store.ts";
import { DatabaseSync } from "node:sqlite";
import { openDb } from "../src/db/mod.ts";
import { asArrays, inTx, rawConnect, rawUpsert } from "./_raw.ts";

/** One measured figure of the store beside its raw node:sqlite baseline. */
export interface BenchFigure {
  name: string;
  unit: "ms" | "transitions/s";
  store: number;
  /** The same work done with raw node:sqlite statements in the same run. */
  baseline: number;
  /** The target, e.g. "≤ 2000 ms". */
  target: string;
  met: boolean;
}

const STAGES = ["fetch", "parse", "store"];
const RAW_JOB = { id: "j", stages: STAGES };
const UPSERT_ITEMS = 100_000;
const CYCLE_ITEMS = 20_000;
const CYCLE_BATCH = 64;
const COUNT_ITEMS = 1_000_000;

function items(n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => ({
    key: `item-${from + i}`,
    data: { url: `https://example.org/posts/${from + i}`, title: `Post ${from + i}` },
  }));
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** The median time of three runs, for figures short enough to repeat. */
async function median3(fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push((await timeAsync(async () => await fn()))[1]);
  return times.sort((a, b) => a - b)[1];
}

/** A fresh store file in `dir`; the raw loops open their own connection to a twin file. */
async function freshStore(dir: string, name: string): Promise<{ db: Store; path: string }> {
  const path = `${dir}/${name}.sqlite`;
  return { db: await openDb(path), path };
}

/** A raw connection to a file that has the store's schema, set up like openDb() does. */
export async function rawTwin(dir: string, name: string): Promise<DatabaseSync> {
  const { db, path } = await freshStore(dir, name);
  await db.close();
  return rawConnect(path);
}

async function benchUpsert(dir: string): Promise<BenchFigure[]> {
  const list = items(UPSERT_ITEMS);
  const { db } = await freshStore(dir, "upsert");
  const [, first] = await timeAsync(() =>
    db.upsertItems({ jobId: "j", stages: STAGES, items: list })
  );
  const [again, second] = await timeAsync(() =>
    db.upsertItems({ jobId: "j", stages: STAGES, items: list })
  );
  if (again.unchanged !== UPSERT_ITEMS) {
    throw new Error(`Re-upsert changed items: ${JSON.stringify(again)}`);
  }
  await db.close();
  const raw = await rawTwin(dir, "upsert-raw");
  const [, rawFirst] = time(() => rawUpsert(raw, list, 1, RAW_JOB));
  const [, rawSecond] = time(() => rawUpsert(raw, list, 2, RAW_JOB));
  raw.close();
  return [
    figure("upsert 100k new items × 3 stages", "ms", first, rawFirst, 2000),
    figure("re-upsert the same 100k unchanged", "ms", second, rawSecond, 1000),
  ];
}

function figure(
  name: string,
  unit: BenchFigure["unit"],
  store: number,
  baseline: number,
  limit: number,
): BenchFigure {
  const atMost = unit === "ms";
  return {
    name,
    unit,
    store,
    baseline,
    target: `${atMost ? "≤" : "≥"} ${limit.toLocaleString("en")} ${unit}`,
    met: atMost ? store <= limit : store >= limit,
  };
}

async function storeCycles(db: Store): Promise<number> {
  let transitions = 0;
  for (const stage of STAGES) {
    while (true) {
      const claims = await db.claimBatch({
        jobId: "j",
        stage,
        runId: "bench",
        limit: CYCLE_BATCH,
        leaseMs: 600_000,
      });
      if (claims.length === 0) break;
      transitions += await db.markDone({
        jobId: "j",
        runId: "bench",
        items: claims.map((c) => ({
          itemId: c.itemId,
          stage,
          position: c.position,
          result: { len: c.key.length, inputs: Object.keys(c.results).length },
          handlerVersion: "1",
        })),
      });
    }
  }
  return transitions;
}

/** The raw claim of one batch: one UPDATE … RETURNING, then the items and earlier results. */
function rawClaim(conn: DatabaseSync, stage: string, now: number) {
  return inTx(conn, () => {
    const rows = asArrays(conn.prepare(
      `UPDATE item_stages SET status = 'in_progress', claimed_by = 'raw', lease_until = ?,
         attempts = attempts + 1, started_at = ?, finished_at = NULL
       WHERE rowid IN (SELECT rowid FROM item_stages WHERE job_id = 'j' AND stage = ?
         AND status = 'pending' AND ready = 1 AND run_after <= ? ORDER BY run_after LIMIT ?)
       RETURNING item_id, position`,
    )).all(now + 600_000, now, stage, now, CYCLE_BATCH) as unknown as [number, number][];
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map(([itemId]) => itemId));
    const data = asArrays(conn.prepare(
      "SELECT id, key, data FROM work_items WHERE id IN (SELECT value FROM json_each(?))",
    )).all(ids) as unknown as [number, string, string][];
    const earlier = rows[0][1] === 0 ? [] : asArrays(conn.prepare(
      `SELECT r.item_id, r.stage, r.result FROM results r JOIN item_stages st
         ON st.item_id = r.item_id AND st.stage = r.stage
       WHERE r.item_id IN (SELECT value FROM json_each(?)) AND st.position < ?`,
    )).all(ids, rows[0][1]) as unknown as [number, string, string][];
    const inputs = new Map<number, number>();
    for (const [itemId] of earlier) inputs.set(itemId, (inputs.get(itemId) ?? 0) + 1);
    return data.map(([id, key, json]) => ({
      item_id: id,
      position: rows.find(([itemId]) => itemId === id)![1],
      key,
      data: JSON.parse(json),
      inputs: inputs.get(id) ?? 0,
    }));
  });
}

function rawCycles(conn: DatabaseSync): number {
  const finish = conn.prepare(
    `UPDATE item_stages SET status = 'done', finished_at = ?, claimed_by = NULL,
       lease_until = NULL, error = NULL
     WHERE item_id = ? AND stage = ? AND status = 'in_progress' AND claimed_by = 'raw'`,
  );
  const store = conn.prepare(
    `INSERT INTO results (item_id, stage, handler_version, result, created_at) VALUES (?, ?, '1', ?, ?)
     ON CONFLICT (item_id, stage) DO UPDATE SET handler_version = excluded.handler_version,
       result = excluded.result, created_at = excluded.created_at`,
  );
  const ready = conn.prepare("UPDATE item_stages SET ready = 1 WHERE item_id = ? AND position = ?");
  let transitions = 0;
  for (const stage of STAGES) {
    while (true) {
      const now = Date.now();
      const claims = rawClaim(conn, stage, now);
      if (claims.length === 0) break;
      inTx(conn, () => {
        for (const c of claims) {
          if (finish.run(now, c.item_id, stage).changes !== 1) continue;
          const result = JSON.stringify({ len: c.key.length, inputs: c.inputs });
          store.run(c.item_id, stage, result, now);
          ready.run(c.item_id, c.position + 1);
          transitions++;
        }
      });
    }
  }
  return transitions;
}

/** One claim → done run of the store and of the raw loop, each on a fresh file: [store, raw] /s. */
async function cycleRates(dir: string, run: number): Promise<[number, number]> {
  const list = items(CYCLE_ITEMS);
  const { db } = await freshStore(dir, `cycles-${run}`);
  await db.upsertItems({ jobId: "j", stages: STAGES, items: list });
  const [done, ms] = await timeAsync(() => storeCycles(db));
  await db.close();
  const raw = await rawTwin(dir, `cycles-raw-${run}`);
  rawUpsert(raw, list, 1, RAW_JOB);
  const [rawDone, rawMs] = time(() => rawCycles(raw));
  raw.close();
  const expected = CYCLE_ITEMS * STAGES.length;
  if (done !== expected || rawDone !== expected) {
    throw new Error(`Expected ${expected} transitions, got ${done} (store), ${rawDone} (raw)`);
  }
  return [(done / ms) * 1000, (rawDone / rawMs) * 1000];
}

/** The median of three claim → done runs, store and raw loop alternating on a noisy machine. */
async function benchCycles(dir: string): Promise<BenchFigure> {
  const runs: [number, number][] = [];
  for (let run = 0; run < 3; run++) runs.push(await cycleRates(dir, run));
  const median = (values: number[]) => values.sort((a, b) => a - b)[1];
  return figure(
    `claim → done, batches of ${CYCLE_BATCH}, ${
      (CYCLE_ITEMS * STAGES.length).toLocaleString("en")
    } transitions, median of 3`,
    "transitions/s",
    median(runs.map((r) => r[0])),
    median(runs.map((r) => r[1])),
    30_000,
  );
}

/** Per-stage counts straight from item_stages, and item counts from the view: the naive way. */
async function rawCounts(conn: DatabaseSync): Promise<[number, number]> {
  const perStage = conn.prepare(
    "SELECT stage, status, count(*) FROM item_stages WHERE job_id = 'j' GROUP BY 1, 2",
  );
  const derived = conn.prepare(
    "SELECT derived_status, count(*) FROM item_derived_status WHERE job_id = 'j' GROUP BY 1",
  );
  // The view takes seconds at this size: one run is enough to show it.
  return [await median3(() => perStage.all()), time(() => derived.all())[1]];
}

/**
 * Moves the 1M-item job to a mature state: 90% done, 5% failed at parse, 5% waiting at parse.
 * Written directly: driving 3M transitions through claims would take minutes.
 */
function mature(conn: DatabaseSync): void {
  inTx(conn, () => {
    conn.exec(`
      UPDATE item_stages SET status = 'done', attempts = 1, finished_at = 1
        WHERE job_id = 'j' AND (item_id % 100 < 90 OR position = 0);
      UPDATE item_stages SET status = 'failed', attempts = 4, error = 'HTTP 500'
        WHERE job_id = 'j' AND item_id % 100 BETWEEN 90 AND 94 AND position = 1;
      UPDATE item_stages SET ready = 1 WHERE job_id = 'j' AND item_id % 100 >= 95 AND position = 1;
    `);
  });
}

async function benchCounts(dir: string, log: (line: string) => void): Promise<BenchFigure[]> {
  const { db, path } = await freshStore(dir, "counts");
  const [, seedMs] = await timeAsync(async () => {
    for (let i = 0; i < COUNT_ITEMS; i += 100_000) {
      await db.upsertItems({ jobId: "j", stages: STAGES, items: items(100_000, i) });
    }
  });
  log(`seeded 1,000,000 items × 3 stages with upsertItems() in ${(seedMs / 1000).toFixed(1)} s`);
  const figures: BenchFigure[] = [];
  for (const state of ["fresh", "mature"] as const) {
    const raw = new DatabaseSync(path, { timeout: 30_000 });
    if (state === "mature") mature(raw);
    const perStage = await median3(() => db.stageStats("j"));
    const derived = await median3(() => db.getJobStats("j"));
    const [rawPerStage, rawDerived] = await rawCounts(raw);
    raw.close();
    figures.push(
      figure(`stageStats(), 1M items × 3 stages, ${state}`, "ms", perStage, rawPerStage, 300),
      figure(`getJobStats(), 1M items × 3 stages, ${state}`, "ms", derived, rawDerived, 300),
    );
  }
  await db.close();
  return figures;
}

function printTable(figures: BenchFigure[], log: (line: string) => void): void {
  const fmt = (n: number) => n.toLocaleString("en", { maximumFractionDigits: n < 100 ? 1 : 0 });
  const rows = figures.map((f) => [
    f.name,
    `${fmt(f.store)} ${f.unit}`,
    `${fmt(f.baseline)} ${f.unit}`,
    `${(f.unit === "ms" ? f.store / f.baseline : f.baseline / f.store).toFixed(2)}×`,
    f.target,
    f.met ? "met" : "MISSED",
  ]);
  const head = ["benchmark", "store", "raw node:sqlite", "store time ÷ raw", "target", ""];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [head, ...rows]) {
    log(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  }
}

/** Runs the store benchmarks in a temporary folder, prints a table and returns the figures. */
export async function benchDb(): Promise<BenchFigure[]> {
  const log = (line: string) => console.log(line);
  const dir = await Deno.makeTempDir({ prefix: "jobs-bench-" });
  try {
    const figures = [
      ...await benchUpsert(dir),
      await benchCycles(dir),
      ...await benchCounts(dir, log),
    ];
    printTable(figures, log);
    return figures;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await benchDb();
