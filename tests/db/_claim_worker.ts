/**
 * A separate OS process that claims from a store, for the contention and lease tests.
 *
 * Usage: _claim_worker.ts DB --job J --run R --stages a,b [--batch N] [--ready F] [--start F]
 *        [--hold] [--lease-ms N]
 *
 * It registers its run, creates the --ready file, waits for the --start file, then either works
 * every stage to the end (claim a batch, print each claim as a JSON line, mark them done) or,
 * with --hold, claims one batch, prints it and keeps it until it is killed.
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
    stages: { type: "string" },
    batch: { type: "string", default: "16" },
    ready: { type: "string" },
    start: { type: "string" },
    hold: { type: "boolean", default: false },
    "lease-ms": { type: "string", default: "600000" },
  },
});
const jobId = values.job!;
const runId = values.run!;
const stages = values.stages!.split(",");
const limit = Number(values.batch);
const leaseMs = Number(values["lease-ms"]);

const db = await openDb(positionals[0]);
await db.registerRun({ runId });
if (values.ready) await Deno.writeTextFile(values.ready, runId);
if (values.start) await waitForFile(values.start);

const encoder = new TextEncoder();
function print(lines: string[]): void {
  if (lines.length) Deno.stdout.writeSync(encoder.encode(lines.join("\n") + "\n"));
}

function printClaims(claims: Claim[]): void {
  print(
    claims.map((c) => JSON.stringify({ item: c.itemId, stage: c.stage, attempts: c.attempts })),
  );
}

if (values.hold) {
  const claims = await db.claimBatch({ jobId, stage: stages[0], runId, limit, leaseMs });
  printClaims(claims);
  print(["held"]);
  setInterval(() => {}, 60_000);
} else {
  // A worker stops only after a full pass finds nothing: whoever finishes the last claims of a
  // stage comes back for the next one, so no claimable work is left behind.
  let claimed = 1;
  while (claimed > 0) {
    claimed = 0;
    for (const stage of stages) {
      const claims = await db.claimBatch({ jobId, stage, runId, limit, leaseMs });
      if (claims.length === 0) continue;
      claimed += claims.length;
      printClaims(claims);
      // The handlers' time: other processes claim while this one holds its batch.
      await new Promise((resolve) => setTimeout(resolve, 1));
      await db.markDone({
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
    }
  }
  await db.close();
}

async function waitForFile(path: string): Promise<void> {
  while (true) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
