import assert from "node:assert/strict";
import { EXIT } from "../../src/cli/mod.ts";
import { openDb } from "../../src/db/mod.ts";
import { finish, waitFor, withConfig, Workspace } from "../runner/_helpers.ts";
import { TEST_PG_URL } from "../db/_helpers.ts";
import { seedBigStore } from "./_big_store.ts";

const HANDLER = `export default async function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url), item.key + "\\n", { append: true });
  ctx.cost(0.01);
  await new Promise((resolve) => setTimeout(resolve, 15));
  return { ok: true };
}
`;

const LIVE_ITEMS = 300;
const MINUTE = 60_000;

function jobsYaml(db: string): string {
  const live = Array.from({ length: LIVE_ITEMS }, (_, i) => `{ key: live-${i} }`).join(", ");
  return `db: ${JSON.stringify(db)}
retention: { events: 1h, results: 7d }
jobs:
  old:
    discovery: { strategy: static, items: [{ key: item-1 }] }
    handler: ./h.ts
  live:
    discovery: { strategy: static, items: [${live}] }
    budget: { daily_usd: 1000 }
    handler: { handler: ./h.ts, concurrency: 2 }
`;
}

Deno.test("a million events and 100,000 results are pruned beside a working run; costs stay exact", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER });
  const location = ws.dbPath;
  await ws.write("jobs.yaml", jobsYaml(location));
  const now = Date.now();
  const big = await seedBigStore(location, { events: 1_000_000, results: 100_000, now });
  const before = await readCosts(location, now);

  const run = ws.spawn(withConfig(ws, ["run", "-j", "live"]));
  let runEnded = false;
  const ran = finish(run).finally(() => runEnded = true);
  await waitFor(
    "the run to work",
    async () => (await ws.lines("calls.log")).length >= 10,
    MINUTE,
  );
  assert.equal(runEnded, false, "the run is still working when pruning starts");
  const pruned = await ws.jobs(["prune", "--json"]);
  const runOut = await ran;
  assert.equal(pruned.code, EXIT.ok, pruned.stderr);
  assert.equal(runOut.code, EXIT.ok, runOut.stderr);

  const db = await openDb(location);
  try {
    const [live] = await db.stageStats("live");
    assert.deepEqual([live.done, live.pending, live.inProgress, live.failed], [
      LIVE_ITEMS,
      0,
      0,
      0,
    ]);
    const report = JSON.parse(pruned.stdout);
    // The run prunes at its end too: what one of them left, the other removed.
    const removed = report.events.rows;
    assert.ok(removed > 0 && removed <= big.events, `${removed} events removed`);
    assert.equal(
      (await db.getEvents({ jobId: "old", limit: 10 })).length,
      0,
      "no old event left",
    );
    const left = await db.prune({
      target: "results",
      jobId: "old",
      before: now,
      limit: 1,
      dryRun: true,
    });
    assert.equal(left.rows, 0, "no superseded result left");
    // The run's own prune at its end may have taken some of them while this one ran.
    const byRun = /Pruned (?:[\d,]+ events, )?([\d,]+) results/.exec(runOut.stderr);
    const resultsByRun = byRun ? Number(byRun[1].replaceAll(",", "")) : 0;
    assert.equal(report.results.rows + resultsByRun, big.results);
    const [old] = await db.stageStats("old");
    assert.equal(old.pending, big.results, "item states are never pruned");
  } finally {
    await db.close();
  }
  const after = await readCosts(location, now);
  // The live run spent 300 × $0.01 today, which the old history did not have.
  assert.deepEqual(after.old, before.old);
  assert.equal(Math.round((after.today - before.today) * 100), LIVE_ITEMS);
  // Only a SQLite file has a size to shrink; PostgreSQL keeps its pages for reuse.
  if (!TEST_PG_URL) await assertShrinks(ws);
});

/**
 * What the cost readers say of job "old", and today's total of every job, to a billionth of a
 * dollar: sums of the same amounts in another grouping differ in their last binary digits.
 * (getCostPerItem() is an estimate once events are pruned: an item counts once per day.)
 */
async function readCosts(location: string, now: number) {
  const db = await openDb(location);
  try {
    return nanoDollars({
      old: {
        byDay: await db.getCostsByDay({ jobId: "old", days: 30, now }),
        today: await db.getDailyCost({ jobId: "old", day: now }),
        chart: await db.costPerDay({ jobId: "old", sinceTs: now - 31 * 86_400_000, untilTs: now }),
      },
      today: await db.getDailyCost({ day: now }),
    });
  } finally {
    await db.close();
  }
}

function nanoDollars<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value),
    (key, v) => typeof v === "number" && /usd|today/i.test(key) ? Math.round(v * 1e9) / 1e9 : v,
  );
}

async function assertShrinks(ws: Workspace): Promise<void> {
  const sizeBefore = (await Deno.stat(ws.dbPath)).size;
  const vacuum = await ws.jobs(["prune", "--vacuum"]);
  assert.equal(vacuum.code, EXIT.ok, vacuum.stderr);
  assert.match(vacuum.stdout, /^space {6}[\d.]+ MiB → [\d.]+ (MiB|KiB)$/m);
  const sizeAfter = (await Deno.stat(ws.dbPath)).size;
  assert.ok(sizeAfter < sizeBefore / 2, `the file went from ${sizeBefore} to ${sizeAfter} bytes`);
}
