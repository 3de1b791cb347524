/** `jobs validate`: check jobs.yaml and print one summary line per job. */
import { loadConfig } from "../config/load.ts";
import type { JobConfig } from "../config/types.ts";
import { formatDuration } from "../util/units.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { EXIT } from "./mod.ts";

const HELP = `Usage: jobs validate [--config FILE] [--json]

Checks jobs.yaml and prints one line per job; every problem is printed as
FILE:LINE:COL: FIELD: MESSAGE and the exit code is 2.
  --json   print the validated, normalised config as JSON instead`;

/** Runs `jobs validate`; a config problem is thrown as a ConfigError (exit 2). */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("validate", args, {});
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const config = await loadConfig(configPath(values.config));
  if (values.json) {
    console.log(JSON.stringify(config, null, 2));
    return EXIT.ok;
  }
  for (const job of config.jobs) console.log(summarize(job));
  return EXIT.ok;
}

/** One line about a job: discovery, its stages in order, and the schedule. */
function summarize(job: JobConfig): string {
  const { strategy, everyMs } = job.discovery;
  const every = everyMs === undefined ? "" : ` every ${formatDuration(everyMs)}`;
  const count = job.stages.length;
  const names = job.stages.map((stage) => stage.name).join(" → ");
  const parts = [
    `${strategy} discovery${every}`,
    `${count} stage${count === 1 ? "" : "s"} (${names})`,
  ];
  if (job.schedule) parts.push(`schedule ${job.schedule}`);
  return `${job.id}: ${parts.join(", ")}`;
}
