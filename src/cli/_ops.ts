/** What the operations commands share: the one job they act on, its stages, the store. */
import type { Store } from "../db/store.ts";
import type { Config, JobConfig } from "../config/types.ts";
import { storeExists } from "../db/location.ts";
import { parseDuration } from "../util/units.ts";
import { UsageError } from "../util/errors.ts";
import { openStore } from "./_runtime.ts";
import { selectJobs } from "../config/select.ts";

/** The job named by -j for `command`; a missing or unknown name is a UsageError. */
export function requireJob(config: Config, command: string, name: string | undefined): JobConfig {
  if (name === undefined) {
    throw new UsageError(`jobs ${command} needs a job: jobs ${command} -j JOB`);
  }
  return selectJobs(config, [name])[0];
}

/** `name` if it is a stage of `job`, else a UsageError listing its stages. */
export function requireStage(job: JobConfig, name: string): string {
  if (!job.stages.some((s) => s.name === name)) {
    throw new UsageError(
      `Unknown stage "${name}" of job "${job.id}"; its stages: ` +
        job.stages.map((s) => s.name).join(", "),
    );
  }
  return name;
}

/** A duration flag such as --since 1h, in milliseconds. */
export function parseDurationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/**
 * Opens the store for commands that only read: an empty store in memory when the file does not
 * exist yet (nothing has run), so reading never creates a database. An existing one is opened
 * for writing so that an older schema is migrated, as every other command does.
 */
export async function openForReading(path: string): Promise<Store> {
  const exists = await storeExists(path);
  return await openStore(exists ? path : ":memory:");
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
