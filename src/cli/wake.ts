/** `jobs wake`: make the next run of a job (or a running --watch) discover now. */

import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
} as const;

const HELP = `Usage: jobs wake -j JOB [--json]

Asks for a discovery now, whatever discovery.every says: the next \`jobs run\` (or a
running \`jobs run --watch\`) discovers at once.
  --json   print { jobId, wakeRequestedAt } as JSON`;

/** Runs `jobs wake`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("wake", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "wake", values.job);
  const db = await openStore(dbPath);
  try {
    const now = Date.now();
    await db.wakeJob(job.id, now);
    if (values.json) printJson({ jobId: job.id, wakeRequestedAt: now });
    else console.log(`Woke ${job.id}: the next run discovers now`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
