/**
 * A separate OS process that watches a store's claims as any other process would see them.
 *
 * Usage: _lease_watcher.ts DB JOB
 *
 * Until it is killed, prints one JSON line per look at the store: `{"held": N, "expired": M}`,
 * N the job's claims in progress and M those whose lease has passed by this process's clock.
 */
import { openDb } from "../../src/db/mod.ts";

const [path, jobId] = Deno.args;
const db = await openDb(path);
const encoder = new TextEncoder();
for (;;) {
  const stats = await db.stageStats(jobId);
  const problem = (await db.leaseProblems()).find((p) => p.jobId === jobId);
  const held = stats.reduce((sum, s) => sum + s.inProgress, 0);
  const line = JSON.stringify({ held, expired: problem?.expired ?? 0 });
  await Deno.stdout.write(encoder.encode(line + "\n"));
  await new Promise((resolve) => setTimeout(resolve, 10));
}
