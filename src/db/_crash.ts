/** The rule that tells a crashed run from a running one, the same on both engines. */
import type { CrashedRun } from "./store.ts";

/** A row of runs that has not ended. */
export interface OpenRun {
  run_id: string;
  host: string;
  pid: number;
  pid_start: string | null;
  started_at: number;
  /** JSON array of job ids, or null. */
  jobs: string | null;
  heartbeat_at: number | null;
}

/**
 * Why `run` is taken for dead, or undefined while it may still run: on this host its process
 * is gone; on another host it showed no sign of life (heartbeat or start) for `staleMs`.
 */
export function crashReason(
  run: OpenRun,
  here: {
    host: string;
    now: number;
    staleMs: number;
    isAlive: (pid: number, pidStart: string | null) => boolean;
  },
): string | undefined {
  if (run.host === here.host) {
    if (run.pid === Deno.pid || here.isAlive(run.pid, run.pid_start)) return undefined;
    return `process ${run.pid} on ${run.host} is gone`;
  }
  const seen = run.heartbeat_at ?? run.started_at;
  if (here.now - seen < here.staleMs) return undefined;
  return `no sign of life from ${run.host} since ${new Date(seen).toISOString()}`;
}

/** What is reported of a crashed run. */
export function crashAlert(run: OpenRun, reason: string): CrashedRun {
  return {
    runId: run.run_id,
    host: run.host,
    pid: run.pid,
    startedAt: run.started_at,
    jobs: run.jobs ? JSON.parse(run.jobs) : [],
    reason,
  };
}
