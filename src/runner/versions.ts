/**
 * The handler versions that jobs.yaml and the handler modules declare now: what `jobctl run`
 * would record, so that a bumped HANDLER_VERSION shows stale results before the next run.
 */
import type { JobConfig, StageConfig } from "../config/types.ts";
import { probeVersion } from "../config/_module_probe.ts";
import { handlerVersion } from "./handlers.ts";

/** Longest a module may take to load while its version is read (as `jobctl validate`). */
const PROBE_TIMEOUT_MS = 10_000;

/** Per module path: the file's identity when read, and what its HANDLER_VERSION was. */
const probed = new Map<string, { stamp: string; version: Promise<string | null | undefined> }>();

/**
 * The current version of each stage of `job`, by stage name. A module without `version:` is
 * loaded in a Worker (once per change of the file); a stage whose module does not load is left
 * out, so its recorded version stands. Without such modules nothing is loaded.
 */
export async function configuredVersions(job: JobConfig): Promise<Record<string, string | null>> {
  const entries = await Promise.all(job.stages.map(async (stage) => {
    const version = await stageVersion(stage);
    return version === undefined ? [] : [[stage.name, version] as const];
  }));
  return Object.fromEntries(entries.flat());
}

async function stageVersion(stage: StageConfig): Promise<string | null | undefined> {
  const spec = stage.handler;
  if (stage.version !== undefined || spec.kind !== "module") return handlerVersion(stage);
  const declared = await moduleVersion(spec.path);
  return declared === undefined ? undefined : handlerVersion(stage, declared);
}

/** HANDLER_VERSION of the module at `path`; undefined when it is missing or does not load. */
async function moduleVersion(path: string): Promise<string | null | undefined> {
  let real: string;
  let stamp: string;
  try {
    real = await Deno.realPath(path);
    const info = await Deno.stat(real);
    stamp = `${info.mtime?.getTime()}:${info.size}`;
  } catch {
    return undefined;
  }
  const seen = probed.get(real);
  if (seen?.stamp === stamp) return await seen.version;
  const version = probeVersion(real, { timeoutMs: PROBE_TIMEOUT_MS });
  probed.set(real, { stamp, version });
  return await version;
}
