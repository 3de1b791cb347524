/** `jobctl migrate`: copy the whole store (items, stages, results, events, job state) elsewhere. */

import { UsageError } from "../util/errors.ts";
import { plural } from "../util/format.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";

const OPTIONS = {
  to: { type: "string" },
  force: { type: "boolean" },
} as const;

/** What `jobctl migrate --help` prints. */
export const HELP = `Usage: jobctl migrate --to postgres://USER@HOST/DB [--force] [--json]

Copies the store (--db, $JOBS_DB or db: in jobs.yaml) into another one: every item, stage,
result, event and cost, job state, run and HTTP cache entry, with their ids and times.
Stop every run first. The target is created and migrated when needed; it may also be a
SQLite path, to move back. The password comes from the URL or $PGPASSWORD.
  --to URL|PATH   the store to copy into
  --force         replace what the target already holds (otherwise a non-empty target
                  is refused)
  --json          print the rows copied per table as JSON

${COMMON_HELP}`;

/** Runs `jobctl migrate`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("migrate", args, OPTIONS);
  if (!values.to) {
    throw new UsageError("jobctl migrate needs a target: jobctl migrate --to URL|PATH");
  }
  const { dbPath } = await loadRuntime(values, configPath);
  if (values.to === dbPath) {
    throw new UsageError(`jobctl migrate: --to names the store itself ("${dbPath}")`);
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
  const n = (table: string, word: string) => plural(counts[table] ?? 0, word);
  return `Copied ${from} to ${to}: ${n("work_items", "item")}, ${n("item_stages", "stage row")}, ` +
    `${n("results", "result")}, ${n("events", "event")}, ${n("job_state", "job state")}, ` +
    `${n("runs", "run")}, ${n("http_cache", "cached URL")}`;
}
