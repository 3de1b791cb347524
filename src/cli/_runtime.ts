/** What `jobctl run` and `jobctl test` share: config, store, run id, signals. */
import type { Store } from "../db/store.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { openDb } from "../db/mod.ts";

import { UsageError } from "../util/errors.ts";
import { exitProcess } from "../util/exit.ts";
import { createLogger, type LogFormat, type Logger } from "../util/log.ts";
import { hostName } from "../util/process.ts";
import { EXIT } from "./mod.ts";

/** Loads jobs.yaml and resolves the database: --db, then $JOBS_DB, then `db:` in jobs.yaml. */
export async function loadRuntime(
  flags: { config?: string; db?: string },
  configPathOf: (flag?: string) => string,
): Promise<{ config: Config; dbPath: string }> {
  const config = await loadConfig(configPathOf(flags.config));
  return { config, dbPath: flags.db ?? Deno.env.get("JOBS_DB") ?? config.db };
}

/** The format --log-format names (default text); anything but text or json is a usage error. */
export function logFormat(flag: string | undefined): LogFormat {
  if (flag !== undefined && flag !== "text" && flag !== "json") {
    throw new UsageError(`--log-format expects "text" or "json", got "${flag}"`);
  }
  return flag ?? "text";
}

/** A logger writing to stderr in the format --log-format names (see logFormat()). */
export function loggerFor(flag: string | undefined): Logger {
  return createLogger(logFormat(flag));
}

/** A fresh run id, registered with this host, pid and its jobs so its claims can be traced. */
export async function startRun(db: Store, jobs?: readonly string[]): Promise<string> {
  const runId = `${hostName()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
  await db.registerRun({ runId, jobs });
  return runId;
}

/** Opens the store, creating it when missing. */
export function openStore(path: string, readOnly = false): Promise<Store> {
  return openDb(path, { readOnly });
}

/**
 * Stops the run on the first SIGINT/SIGTERM (in-flight handlers get the grace period) and
 * exits at once on the second. Returns the controller and a function that removes the handlers.
 */
export function trapSignals(
  log: Logger,
  graceMs: number,
): { controller: AbortController; dispose(): void } {
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => {
    if (controller.signal.aborted) {
      log.warn("Second signal: exiting now; unfinished claims are released by the next run");
      exitProcess(EXIT.interrupted);
    }
    log.warn(
      `Stopping: in-flight handlers get ${
        Math.round(graceMs / 1000)
      }s to finish; signal again to exit now`,
    );
    controller.abort(new Error("interrupted"));
  };
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  return {
    controller,
    dispose: () => signals.forEach((s) => Deno.removeSignalListener(s, onSignal)),
  };
}
