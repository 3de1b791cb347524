/** `jobs retry`: put failed stages back to pending, attempts reset, to run at the next run. */

import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob, requireStage } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { count } from "./_table.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  stage: { type: "string" },
  error: { type: "string" },
  item: { type: "string" },
} as const;

const HELP = `Usage: jobs retry -j JOB [--stage S] [--error TEXT] [--item KEY] [--json]

Puts the job's failed stages back to pending with their attempts reset to 0; the next
run processes them again. Filters combine:
  --stage S      only failures at stage S
  --error TEXT   only failures whose error contains TEXT
  --item KEY     only this item
  --json         print { jobId, reset } as JSON`;

/** Runs `jobs retry`; returns the exit code (1 when --item names no item of the job). */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("retry", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "retry", values.job);
  const stage = values.stage === undefined ? undefined : requireStage(job, values.stage);
  const db = await openStore(dbPath);
  try {
    if (values.item !== undefined && !await db.findItem({ jobId: job.id, key: values.item })) {
      console.error(`No item "${values.item}" in job "${job.id}"`);
      return EXIT.failed;
    }
    const reset = await db.retryFailed({
      jobId: job.id,
      stage,
      errorContains: values.error,
      itemKey: values.item,
    });
    if (values.json) printJson({ jobId: job.id, reset });
    else if (reset === 0) console.log(`No failed stages of ${job.id} match`);
    else {
      console.log(
        `Reset ${count(reset)} failed stage${reset === 1 ? "" : "s"} of ${job.id} to pending; ` +
          "the next run processes them",
      );
    }
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
