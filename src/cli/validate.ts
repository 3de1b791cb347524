/** `jobctl validate`: check jobs.yaml and print one summary line per job. */
import { loadConfig } from "../config/load.ts";
import type { JobConfig } from "../config/types.ts";
import { formatDuration } from "../util/units.ts";
import { plural } from "../util/format.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { parseDurationFlag } from "./_ops.ts";
import { EXIT } from "./mod.ts";

/** What `jobctl validate --help` prints. */
export const HELP = `Usage: jobctl validate [--config FILE] [--import-timeout DURATION] [--json]

Checks jobs.yaml as \`jobctl run\` would meet it: its keys and values, every handler module
(it must load and export a default function; each is loaded in a worker, so a module that
exits or never finishes loading cannot stop validate) and every command program (on PATH, or
relative to jobs.yaml when it contains "/"). Prints one line per job; otherwise every problem
as FILE:LINE:COL: FIELD: MESSAGE, all at once, and exits 2.
  -c, --config FILE            the jobs.yaml to read (default $JOBS_CONFIG, else ./jobs.yaml)
  --import-timeout DURATION    longest a handler module may take to load (default 10s)
  --json                       print the validated, normalised config as JSON instead
  -h, --help                   print this help and do nothing else`;

const OPTIONS = {
  "import-timeout": { type: "string" },
} as const;

/** Longest a handler module may take to load before validate reports it. */
const DEFAULT_IMPORT_TIMEOUT_MS = 10_000;

/** Runs `jobctl validate`; a config problem is thrown as a ConfigError (exit 2). */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("validate", args, OPTIONS);
  const timeoutMs = values["import-timeout"] === undefined
    ? DEFAULT_IMPORT_TIMEOUT_MS
    : parseDurationFlag("--import-timeout", values["import-timeout"]);
  const config = await loadConfig(configPath(values.config), { handlers: { timeoutMs } });
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
  const names = job.stages.map((stage) => stage.name).join(" → ");
  const parts = [
    `${strategy} discovery${every}`,
    `${plural(job.stages.length, "stage")} (${names})`,
  ];
  if (job.schedule) parts.push(`schedule ${job.schedule}`);
  return `${job.id}: ${parts.join(", ")}`;
}
