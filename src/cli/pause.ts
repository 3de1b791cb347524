/** `jobs pause`: stop claiming a job's stages until `jobs unpause`. */

import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  reason: { type: "string" },
} as const;

const HELP = `Usage: jobs pause -j JOB [--reason TEXT] [--json]

Pauses a job: no run claims its stages until \`jobs unpause -j JOB\`. Claims already
running finish. The reason shows in \`jobs status\` and the event log.
  --reason TEXT   why (default "paused by operator")
  --json          print the job's pause state as JSON`;

/** Runs `jobs pause`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("pause", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "pause", values.job);
  const reason = values.reason ?? "paused by operator";
  const db = await openStore(dbPath);
  try {
    await db.setJobPaused({ jobId: job.id, paused: true, reason });
    const state = await db.getJobState(job.id);
    if (values.json) {
      printJson({ jobId: job.id, paused: state.paused, pauseReason: state.pauseReason });
    } else console.log(`Paused ${job.id}: ${reason}`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
