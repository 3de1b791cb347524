/** `jobs migrate`: copy the whole store (items, stages, results, events, job state) elsewhere. */

import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  to: { type: "string" },
  force: { type: "boolean" },
} as const;

const HELP = `Usage: jobs migrate --to postgres://USER@HOST/DB [--force] [--json]

Copies the store (--db, $JOBS_DB or db: in jobs.yaml) into another one: every item, stage,
result, event and cost, job state, run and HTTP cache entry, with their ids and times.
Stop every run first. The target is created and migrated when needed; it may also be a
SQLite path, to move back. The password comes from the URL or $PGPASSWORD.
  --to URL|PATH   the store to copy into
  --force         replace what the target already holds (otherwise a non-empty target
                  is refused)
  --json          print the rows copied per table as JSON`;

/** Runs `jobs migrate`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("migrate", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  if (!values.to) throw new UsageError("jobs migrate needs a target: jobs migrate --to URL|PATH");
  const { dbPath } = await loadRuntime(values, configPath);
  if (values.to === dbPath) {
    throw new UsageError(`jobs migrate: --to names the store itself ("${dbPath}")`);
  }
  const source = await openStore(dbPath);
  try {
    const target = await openStore(values.to);
    try {
      if (!values.force && !await target.isStoreEmpty()) {
        throw new UsageError(
          `Database "${target.location}" is not empty; use --force to replace its content`,
        );
      }
      const counts = await source.copyTo(target, { replace: values.force ?? false });
      if (values.json) printJson({ from: source.location, to: target.location, rows: counts });
      else console.log(summary(source.location, target.location, counts));
      return EXIT.ok;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function summary(from: string, to: string, counts: Record<string, number>): string {
  const n = (table: string) => (counts[table] ?? 0).toLocaleString("en");
  return `Copied ${from} to ${to}: ${n("work_items")} items, ${n("item_stages")} stage rows, ` +
    `${n("results")} results, ${n("events")} events, ${n("job_state")} job states, ` +
    `${n("runs")} runs, ${n("http_cache")} cached URLs`;
}
