/** When a finished discovery raises an alert, the same on both engines. */
import type { AlertKind, FinishDiscoveryOptions } from "./store.ts";
import { formatDuration } from "../util/units.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../util/time.ts";

/** The alert a finished discovery raises, if any, from the job's state after it. */
export function discoveryAlert(
  options: FinishDiscoveryOptions,
  state: { failures: number; lastNewItemAt: number | null; now: number },
): { kind: AlertKind; message: string; data: Record<string, unknown> } | undefined {
  const threshold = options.alertAfterFailures;
  const failed = !options.succeeded && options.error !== undefined;
  if (failed && threshold !== undefined && state.failures >= threshold) {
    return {
      kind: "discovery_failing",
      message: `discovery failed ${state.failures} times in a row` +
        (options.error ? `; last: ${options.error.slice(0, 500)}` : ""),
      data: { failures: state.failures, error: options.error ?? null },
    };
  }
  const within = options.expectNewWithinMs;
  if (!options.succeeded || within === undefined || state.lastNewItemAt === null) return;
  const silentMs = state.now - state.lastNewItemAt;
  if (silentMs <= within) return;
  return {
    kind: "silent",
    message: `no new item for ${roughly(silentMs)} (expected within ${formatDuration(within)})`,
    data: { lastNewItemAt: state.lastNewItemAt, expectNewWithinMs: within },
  };
}

/** A long span in whole days, hours or minutes. */
function roughly(ms: number): string {
  if (ms >= 2 * DAY_MS) return `${Math.floor(ms / DAY_MS)}d`;
  if (ms >= 2 * HOUR_MS) return `${Math.floor(ms / HOUR_MS)}h`;
  return `${Math.floor(ms / MINUTE_MS)}m`;
}
