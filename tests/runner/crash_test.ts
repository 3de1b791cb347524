import assert from "node:assert/strict";

import { outputWithin, PROCESS_DEADLINE_MS, withDeadline } from "../_deadline.ts";
import { allItems, resultsOf, Workspace } from "./_helpers.ts";
import { seeded } from "../_seeded.ts";

const ITEMS = 2000;
const STAGES = ["a", "b", "c"];
const KILLS = 5;
/** Every log line is "<stage> k<4 digits>\n": 8 bytes. */
const LINE_BYTES = 8;
/**
 * Handler calls between two kills, at least: far more than the claims one run has in flight
 * (stages × concurrency), so each run finishes the work the previous kill left in flight and
 * no claim is caught by several kills in a row.
 */
const MIN_GAP = 600;
/** Overrides the seed of the kill points, to repeat a failure. */
const SEED_ENV = "JOBS_TEST_CRASH_SEED";

// Each call appends one fixed-width line, so the log's size counts the calls.
const HANDLER = `export const HANDLER_VERSION = "1";
export default function handle(item, ctx) {
  Deno.writeTextFileSync(new URL("./calls.log", import.meta.url),
    \`\${ctx.stage} \${item.key}\\n\`, { append: true });
  return { stage: ctx.stage, key: item.key };
}
`;

function yaml(): string {
  const keys = Array.from({ length: ITEMS }, (_, i) => `k${String(i).padStart(4, "0")}`);
  return `jobs:
  bulk:
    discovery:
      strategy: static
      items: [${keys.map((k) => `{ key: ${k} }`).join(", ")}]
    stages:
${STAGES.map((s) => `      - { name: ${s}, handler: ./h.ts, concurrency: 4 }`).join("\n")}
`;
}

async function calls(ws: Workspace): Promise<number> {
  try {
    return (await Deno.stat(ws.path("calls.log"))).size / LINE_BYTES;
  } catch {
    return 0;
  }
}

/**
 * `count` kill points (handler calls) drawn from `seed` in [first, last], sorted, each at
 * least MIN_GAP after the one before.
 */
function killPoints(seed: number, count: number, first: number, last: number): number[] {
  const random = seeded(seed);
  const slack = last - first - (count - 1) * MIN_GAP;
  const offsets = Array.from({ length: count }, () => Math.floor(random() * (slack + 1)));
  return offsets.sort((a, b) => a - b).map((offset, i) => first + offset + i * MIN_GAP);
}

/**
 * Starts `jobctl run` and kills it with SIGKILL once `atCalls` handler calls are logged and the
 * stages in `leftInFlight` (what the previous kill caught) are recorded done: calls run ahead of
 * what the store records (outcomes are written in batches, on PostgreSQL with a round trip), so
 * a count of calls alone does not say that the previous kill's work was finished.
 */
async function runAndKill(
  ws: Workspace,
  atCalls: number,
  leftInFlight: ReadonlySet<string>,
  where: string,
): Promise<void> {
  const child = ws.spawn(["run", "--config", ws.path("jobs.yaml")]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const output = outputWithin(child, `${where}: the run killed at ${atCalls} calls`);
  let reached = false;
  await withDeadline(`${where}: ${atCalls} handler calls`, PROCESS_DEADLINE_MS, async () => {
    while (!exited && await calls(ws) < atCalls) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    reached = await calls(ws) >= atCalls;
    while (!exited && !await allDone(ws, leftInFlight)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, () => child.kill("SIGKILL"));
  assert.ok(reached, `${where}: the run ended before ${atCalls} calls: ${await calls(ws)}`);
  // Past its kill point, a run may finish the work before the previous kill's is recorded.
  try {
    if (!exited) child.kill("SIGKILL");
  } catch (err) {
    // "Child process has already terminated": it finished just now.
    if (!(err instanceof TypeError)) throw err;
  }
  await output;
  if ((await status).signal !== null) assert.equal((await status).signal, "SIGKILL");
}

/** Whether every "<stage> <key>" of `ids` is done in the workspace's store. */
async function allDone(ws: Workspace, ids: ReadonlySet<string>): Promise<boolean> {
  if (ids.size === 0) return true;
  const db = await ws.openDb();
  try {
    return (await allItems(db, "bulk")).every((item) =>
      item.stages.every((s) => s.status === "done" || !ids.has(`${s.stage} ${item.key}`))
    );
  } finally {
    await db.close();
  }
}

Deno.test("kill points are spaced MIN_GAP calls apart and repeat with their seed", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const points = killPoints(seed, KILLS, 200, 5200);
    assert.deepEqual(killPoints(seed, KILLS, 200, 5200), points);
    assert.ok(points[0] >= 200 && points[KILLS - 1] <= 5200, `seed ${seed}: ${points}`);
    for (let i = 1; i < KILLS; i++) {
      assert.ok(points[i] - points[i - 1] >= MIN_GAP, `seed ${seed}: ${points}`);
    }
  }
});

Deno.test("kill -9 at 5 random points: every (item, stage) ends done exactly once, none lost", async () => {
  await using ws = await Workspace.create({ "h.ts": HANDLER, "jobs.yaml": yaml() });
  const total = ITEMS * STAGES.length;
  const seed = Number(Deno.env.get(SEED_ENV) ?? Math.floor(Math.random() * 2 ** 32));
  const points = killPoints(seed, KILLS, 200, total - 800);
  const where = `kill points ${points.join(", ")} (${SEED_ENV}=${seed})`;
  // (stage, key) pairs that were claimed but not recorded at some kill: the only ones that may
  // run twice.
  const inFlight = new Map<string, number>();
  let caught = new Set<string>();
  for (const point of points) {
    await runAndKill(ws, point, caught, where);
    caught = new Set();
    const db = await ws.openDb();
    try {
      for (const item of await allItems(db, "bulk")) {
        for (const s of item.stages) {
          const id = `${s.stage} ${item.key}`;
          if (s.status !== "in_progress") continue;
          inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
          caught.add(id);
        }
      }
    } finally {
      await db.close();
    }
  }
  const last = await ws.jobs(["run"]);
  assert.equal(last.code, 0, `${where}\n${last.stderr}`);

  const db = await ws.openDb();
  try {
    assert.deepEqual(
      (await db.stageStats("bulk")).map((s) => [s.stage, s.done, s.pending, s.inProgress]),
      STAGES.map((s) => [s, ITEMS, 0, 0]),
      where,
    );
    const items = await allItems(db, "bulk");
    assert.equal(items.length, ITEMS);
    for (const item of items) {
      const results = await resultsOf(db, "bulk", item.key);
      assert.deepEqual(
        results.map((r) => r.result),
        STAGES.map((stage) => ({ stage, key: item.key })),
        `${where}: results of ${item.key}`,
      );
    }
  } finally {
    await db.close();
  }
  const counts = new Map<string, number>();
  for (const line of await ws.lines("calls.log")) counts.set(line, (counts.get(line) ?? 0) + 1);
  assert.equal(counts.size, total, `${where}: every (stage, item) was called`);
  for (const [id, n] of counts) {
    if (n === 1) continue;
    const allowed = 1 + (inFlight.get(id) ?? 0);
    assert.ok(n <= allowed, `${where}: "${id}" ran ${n} times, in flight at ${allowed - 1} kills`);
  }
});
