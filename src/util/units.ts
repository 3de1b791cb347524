/** Durations ("30s") and rates ("2/s") as written in jobs.yaml, parsed to milliseconds. */

/** A rate limit: at most `count` events per `perMs` milliseconds ("2/s" is { count: 2, perMs: 1000 }). */
export interface Rate {
  count: number;
  perMs: number;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const RATE = /^(\d+)\/(s|m|min|h|d)$/;

/**
 * Milliseconds in a duration such as "500ms", "30s", "5m", "2h", "1d" or 1.5h; 0 needs no unit.
 * Throws an Error whose message is `expected a duration like "30s", got …`.
 */
export function parseDuration(text: string | number): number {
  if (text === 0 || text === "0") return 0;
  const match = typeof text === "string" ? DURATION.exec(text.trim()) : null;
  const ms = match ? Math.round(Number(match[1]) * UNIT_MS[match[2]]) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`expected a duration like "30s", got ${JSON.stringify(text)}`);
  }
  return ms;
}

/**
 * A rate such as "2/s", "60/min" (or "60/m"), "1000/h" or "100/d" as { count, perMs }.
 * Throws an Error whose message is `expected a rate like "2/s", got …`.
 */
export function parseRate(text: string): Rate {
  const match = typeof text === "string" ? RATE.exec(text.trim()) : null;
  const count = match ? Number(match[1]) : 0;
  if (!match || count < 1 || !Number.isSafeInteger(count)) {
    throw new Error(`expected a rate like "2/s", got ${JSON.stringify(text)}`);
  }
  return { count, perMs: UNIT_MS[match[2]] };
}

/** Shortest `runner.lease` jobs.yaml accepts: a heartbeat renews leases every third of it. */
export const MIN_LEASE_MS = 300;
/** Shortest timeout jobs.yaml accepts (of a stage, a discovery, a notify target). */
export const MIN_TIMEOUT_MS = 50;

/**
 * parseDuration(), refusing a duration under `minMs`: `expected a duration of at least 50ms,
 * got …`.
 */
export function parseDurationAtLeast(text: string | number, minMs: number): number {
  const ms = parseDuration(text);
  if (ms < minMs) {
    throw new Error(
      `expected a duration of at least ${formatDuration(minMs)}, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** A duration in the shortest exact form, the inverse of parseDuration: 3600000 is "1h". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return ms === 0 ? "0" : `${ms}ms`;
}
