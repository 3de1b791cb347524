/** How the dashboard writes durations and times (money and counts: src/util/format.ts). */

/** A duration for people: 850 ms, 12.3 s, 4.5 min, 2.1 h; "–" when unknown. */
export function formatMs(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A time in UTC to the second, "2026-01-31 14:05:09 UTC"; `missing` when there is none. */
export function formatTime(ts: number | null, missing = "never"): string {
  if (ts === null) return missing;
  return new Date(ts).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}
