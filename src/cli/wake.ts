/** `jobctl wake`: make the next run of a job (or a running --watch) discover now, holds cleared. */

import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
} as const;

/** What `jobctl wake --help` prints. */
export const HELP = `Usage: jobctl wake -j JOB [--json]

Asks for a discovery now, whatever discovery.every says: the next \`jobctl run\` (or a
running \`jobctl run --watch\`) discovers at once. Clears the backoff and the waits of the
job's sources and of their hosts, so they are read at once too.
  -j, --job JOB   the job (required)
  --json          print { jobId, wakeRequestedAt } as JSON

${COMMON_HELP}`;

/** Runs `jobctl wake`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("wake", args, OPTIONS);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "wake", values.job);
  const db = await openStore(dbPath);
  try {
    const now = Date.now();
    await db.wakeJob(job.id, now);
    // A discovery lease a crashed run left would keep the woken discovery from running.
    await db.releaseDeadDiscoveryLeases({ jobId: job.id, now: () => now });
    if (values.json) printJson({ jobId: job.id, wakeRequestedAt: now });
    else console.log(`Woke ${job.id}: the next run discovers now`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
