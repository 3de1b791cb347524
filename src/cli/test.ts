/** `jobctl test`: run a job's stages on a few items in a scratch database, showing each step. */
import type { RunContext, StageReport } from "../runner/context.ts";
import { Pacer } from "../runner/pacer.ts";
import { Resources } from "../runner/resources.ts";
import { runJob, runnerSettings } from "../runner/run_job.ts";
import { describeThrown, UsageError } from "../util/errors.ts";
import { guardHandlers } from "../runner/handler_guard.ts";
import { plural } from "../util/format.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { loadRuntime, loggerFor, openStore, startRun, trapSignals } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { removeStoreFile, scratchStoreFile } from "../db/location.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  stage: { type: "string" },
  item: { type: "string" },
  limit: { type: "string" },
  "no-reset": { type: "boolean" },
} as const;

/** What `jobctl test --help` prints. */
export const HELP = `Usage: jobctl test -j JOB [--stage S] [--item KEY|URL | --limit N] [--no-reset]

Runs one job on a few items in a scratch database beside the real one (jobs.test.sqlite for
jobs.sqlite), in the foreground, printing each stage's input and output. The production
database is never opened.
  -j, --job JOB            the job (required)
  --limit N                discover at most N items (default 3)
  --item KEY|URL           exactly this item: a key, or a URL (an unknown URL becomes { url })
  --stage S                run up to stage S, and S again; earlier stages run only where they
                           have no result yet (with --no-reset: reuse earlier results)
  --no-reset               keep the scratch database of the previous test (default: reset it)
  --log-format text|json   log lines as text or JSON lines (default text)

${COMMON_HELP}`;

/** Longest JSON shown for a stage's input or output. */
const SHOW_CHARS = 2000;

/** Runs `jobctl test`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("test", args, OPTIONS);
  if (!values.job) throw new UsageError("jobctl test needs a job: jobctl test -j JOB");
  if (values.item !== undefined && values.limit !== undefined) {
    throw new UsageError("--item and --limit cannot be combined");
  }
  const log = loggerFor(values["log-format"]);
  const limit = parsePositiveInt("--limit", values.limit);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const [job] = selectJobs(config, [values.job]);
  const scratch = scratchStoreFile(dbPath, config.dir);
  if (!values["no-reset"]) await removeStoreFile(scratch);
  const db = await openStore(scratch);
  const signals = trapSignals(log, config.runner.shutdownGraceMs);
  let unscoped = 0;
  // As in `jobctl run`: a handler cannot end the command, and what escapes it is its failure.
  guardHandlers({
    onUnscoped(error, where) {
      unscoped++;
      log.error(`Uncaught error outside any handler's claim: ${describeThrown(error)}`, { where });
    },
  });
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
      runnerSettings(config),
      pacer,
      new Resources(config.resources, pacer),
      ctx,
    );
    if (signals.controller.signal.aborted) return EXIT.interrupted;
    if (summary.discovery.error) return EXIT.failed;
    console.log(
      `\n${plural(reports.length, "stage run")} on ${
        plural(summary.discovery.found, "item")
      } in ${scratch}`,
    );
    const clean = unscoped === 0 && summary.handlerErrors === 0;
    return clean && reports.every((r) => r.outcome === "done" || r.outcome === "skipped")
      ? EXIT.ok
      : EXIT.failed;
  } finally {
    signals.dispose();
    await db.close();
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
