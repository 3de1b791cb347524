/** `jobs unpause`: let a paused job's stages be claimed again. */

import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
} as const;

const HELP = `Usage: jobs unpause -j JOB [--json]

Unpauses a job (paused by \`jobs pause\` or by pause_after_failures) and clears its
failure streak; the next run claims its stages again. A job that is not paused is left
as it is.
  --json   print the job's pause state as JSON`;

/** Runs `jobs unpause`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("unpause", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "unpause", values.job);
  const db = await openStore(dbPath);
  try {
    const before = await db.getJobState(job.id);
    if (before.paused) await db.setJobPaused({ jobId: job.id, paused: false });
    if (values.json) printJson({ jobId: job.id, paused: false, wasPaused: before.paused });
    else console.log(before.paused ? `Unpaused ${job.id}` : `${job.id} is not paused`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
