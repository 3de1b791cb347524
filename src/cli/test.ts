/** `jobs test`: run a job's stages on a few items in a scratch database, showing each step. */
import type { RunContext, StageReport } from "../runner/context.ts";
import { Pacer } from "../runner/pacer.ts";
import { Resources } from "../runner/resources.ts";
import { runJob } from "../runner/run_job.ts";
import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { loadRuntime, loggerFor, openStore, startRun, trapSignals } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  stage: { type: "string" },
  item: { type: "string" },
  limit: { type: "string" },
  "no-reset": { type: "boolean" },
} as const;

/** Longest JSON shown for a stage's input or output. */
const SHOW_CHARS = 2000;

/** The scratch database beside the real one: jobs.sqlite → jobs.test.sqlite. */
export function scratchPath(dbPath: string): string {
  return dbPath.endsWith(".sqlite")
    ? dbPath.replace(/\.sqlite$/, ".test.sqlite")
    : `${dbPath}.test.sqlite`;
}

/** Runs `jobs test`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("test", args, OPTIONS);
  if (!values.job) throw new UsageError("jobs test needs a job: jobs test -j JOB");
  if (values.item !== undefined && values.limit !== undefined) {
    throw new UsageError("--item and --limit cannot be combined");
  }
  const log = loggerFor(values["log-format"]);
  const limit = parsePositiveInt("--limit", values.limit);
  const { config, dbPath } = await loadRuntime(values, configPath);
  if (dbPath.startsWith("postgres")) throw new UsageError("jobs test needs a SQLite database path");
  const [job] = selectJobs(config, [values.job]);
  const scratch = scratchPath(dbPath);
  if (!values["no-reset"]) await removeDb(scratch);
  const db = await openStore(scratch);
  const signals = trapSignals(log, config.runner.shutdownGraceMs);
  const reports: StageReport[] = [];
  try {
    const ctx: RunContext = {
      mode: "test",
      db,
      runId: await startRun(db),
      log,
      signal: signals.controller.signal,
      limit,
      testStage: values.stage,
      testItem: values.item,
      noReset: values["no-reset"] ?? false,
      discoverOnly: false,
      singlePass: true,
      onStageResult: (r) => {
        reports.push(r);
        show(r);
      },
      now: Date.now,
    };
    const pacer = new Pacer();
    const summary = await runJob(
      job,
      { ...config.runner, configDir: config.dir },
      pacer,
      new Resources(config.resources, pacer),
      ctx,
    );
    if (summary.discovery.error) return EXIT.failed;
    console.log(`\n${reports.length} stage runs on ${summary.discovery.found} items in ${scratch}`);
    return reports.every((r) => r.outcome === "done" || r.outcome === "skipped")
      ? EXIT.ok
      : EXIT.failed;
  } finally {
    signals.dispose();
    await db.close();
  }
}

async function removeDb(path: string): Promise<void> {
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.remove(path + suffix).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

function show(r: StageReport): void {
  console.log(
    `── ${r.jobId} / ${r.stage} / ${r.key}: ${r.outcome} in ${Math.round(r.durationMs)}ms`,
  );
  console.log(`   input:  ${clip(JSON.stringify(r.input))}`);
  console.log(`   output: ${clip(JSON.stringify(r.output))}`);
}

function clip(text: string | undefined): string {
  const t = text ?? "null";
  return t.length > SHOW_CHARS ? t.slice(0, SHOW_CHARS) + "…" : t;
}
