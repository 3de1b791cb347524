/** Choosing jobs of a config by name. */
import type { Config, JobConfig } from "./types.ts";
import { UsageError } from "../util/errors.ts";

/** The jobs named with -j (all when none), in config order; an unknown name is a usage error. */
export function selectJobs(config: Config, names: readonly string[] | undefined): JobConfig[] {
  if (!names?.length) return config.jobs;
  const known = new Set(config.jobs.map((j) => j.id));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(
      `Unknown job ${unknown.map((n) => `"${n}"`).join(", ")}; jobs in ${config.file}: ` +
        [...known].join(", "),
    );
  }
  return config.jobs.filter((j) => names.includes(j.id));
}
