/** `jobctl prune`: remove what retention no longer keeps, and give the space back. */
import type { Store } from "../db/store.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { type PruneReport, pruneStore } from "../ops/retention.ts";
import { formatBytes } from "../doctor/finding.ts";
import { storeExists } from "../db/location.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  "dry-run": { type: "boolean" },
  vacuum: { type: "boolean" },
} as const;

/** What `jobctl prune --help` prints. */
export const HELP = `Usage: jobctl prune [-j JOB] [--dry-run] [--vacuum] [--json]

Removes what retention (jobs.yaml "retention:") no longer keeps: old events (cost events leave
daily totals), results superseded by a reprocess, HTTP validators not used for long, finished
runs. Item states are never removed. "jobctl run" also prunes for a moment at its end.
  -j, --job JOB   only this job's events and results
  --dry-run       count what would be removed; remove nothing
  --vacuum        then give every free page back to the file system; a SQLite file made before
                  incremental freeing is rewritten (stop every run and dashboard first)
  --json          print what was removed as JSON

${COMMON_HELP}`;

/** Runs `jobctl prune`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("prune", args, OPTIONS);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const jobs = values.job === undefined ? undefined : [requireJob(config, "prune", values.job)];
  const dryRun = values["dry-run"] ?? false;
  if (!await storeExists(dbPath)) {
    console.log("Nothing to prune: the database does not exist yet");
    return EXIT.ok;
  }
  const db = await openStore(dbPath, dryRun);
  try {
    const report = await pruneStore(db, config, { jobs, dryRun });
    const space = !dryRun && values.vacuum ? await reclaim(db) : undefined;
    if (values.json) printJson({ dryRun, ...report, space });
    else print(report, dryRun, space);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

async function reclaim(db: Store): Promise<{ bytesBefore: number; bytesAfter: number }> {
  const space = await db.reclaimSpace({ full: true });
  // The freed pages leave the file once the write-ahead log is copied back.
  await db.checkpointWal();
  return space;
}

function print(
  report: PruneReport,
  dryRun: boolean,
  space?: { bytesBefore: number; bytesAfter: number },
): void {
  const verb = dryRun ? "would remove" : "removed";
  const line = (what: string, t: { rows: number; bytes: number }, extra = "") =>
    console.log(
      `${what.padEnd(11)} ${verb} ${t.rows.toLocaleString("en")} (${formatBytes(t.bytes)})${extra}`,
    );
  const costs = report.events.costEvents;
  line(
    "events",
    report.events,
    costs ? `, ${costs.toLocaleString("en")} of them costs kept as daily totals` : "",
  );
  line("results", report.results);
  line("http cache", report.httpCache);
  line("runs", report.runs);
  if (space) {
    console.log(
      `space      ${formatBytes(space.bytesBefore)} → ${formatBytes(space.bytesAfter)}`,
    );
  }
}
