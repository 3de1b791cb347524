/**
 * A worker process standing in for one machine of a PostgreSQL store, for pg_workers_test.ts.
 *
 * Usage: _pg_worker.ts URL --job J --run R --host H --stages a,b [--batch N] [--lease-ms N]
 *        [--ready F] [--start F] [--die-after N]
 *
 * It registers its run under host H, says it is ready, waits for the start file, then until
 * every item of the job is done: reconciles expired leases (as host H), claims a batch of each
 * stage, marks it done and prints each recorded (item, stage) as a JSON line; it renews its
 * leases meanwhile. With --die-after N, after N batches it claims one more, prints "holding"
 * and waits to be killed.
 */
import type { Claim } from "../../src/db/store.ts";
import { parseArgs } from "node:util";
import { openDb } from "../../src/db/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    job: { type: "string" },
    run: { type: "string" },
    host: { type: "string" },
    stages: { type: "string" },
    batch: { type: "string", default: "8" },
    "lease-ms": { type: "string", default: "60000" },
    ready: { type: "string" },
    start: { type: "string" },
    "die-after": { type: "string" },
  },
});
const jobId = values.job!;
const runId = values.run!;
const host = values.host!;
const stages = values.stages!.split(",");
const limit = Number(values.batch);
const leaseMs = Number(values["lease-ms"]);
const dieAfter = values["die-after"] === undefined ? Infinity : Number(values["die-after"]);

const db = await openDb(positionals[0]);
await db.registerRun({ runId, host });
if (values.ready) await Deno.writeTextFile(values.ready, runId);
if (values.start) await waitForFile(values.start);

const encoder = new TextEncoder();
function print(lines: string[]): void {
  if (lines.length) Deno.stdout.writeSync(encoder.encode(lines.join("\n") + "\n"));
}

const heartbeat = setInterval(() => db.renewLeases({ runId, leaseMs }), leaseMs / 3);
let batches = 0;
while (true) {
  await db.reconcileExpiredLeases({ host });
  let claimed = 0;
  for (const stage of stages) {
    const claims = await db.claimBatch({ jobId, stage, runId, limit, leaseMs });
    if (claims.length === 0) continue;
    claimed += claims.length;
    if (++batches > dieAfter) {
      clearInterval(heartbeat);
      print(["holding", ...claims.map((c) => JSON.stringify({ item: c.itemId, stage }))]);
      await new Promise(() => {});
    }
    await record(claims);
  }
  if (claimed > 0) continue;
  const { items } = await db.getJobStats(jobId);
  if (items.done === items.total) break;
  // What is left is held by other runs: wait for them to finish, or for their leases to pass.
  await new Promise((resolve) => setTimeout(resolve, 50));
}
clearInterval(heartbeat);
await db.close();

async function record(claims: Claim[]): Promise<void> {
  const recorded = await db.markDone({
    jobId,
    runId,
    items: claims.map((c) => ({
      itemId: c.itemId,
      stage: c.stage,
      position: c.position,
      result: { by: runId },
      handlerVersion: "1",
    })),
  });
  if (recorded !== claims.length) print([`lost ${claims.length - recorded}`]);
  print(
    claims.map((c) => JSON.stringify({ item: c.itemId, stage: c.stage, attempts: c.attempts })),
  );
}

async function waitForFile(path: string): Promise<void> {
  while (!(await Deno.stat(path).then(() => true, () => false))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
