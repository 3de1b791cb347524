/** Plain-text output of the operations commands: aligned tables and times. */
import { count } from "../util/format.ts";

/** A table cell: numbers are right-aligned and printed with thousands separators. */
export type Cell = string | number;

/** Rows under a header, columns padded to their widest cell; every line starts with `indent`. */
export function renderTable(head: string[], rows: Cell[][], indent = ""): string {
  const text = [head, ...rows.map((row) => row.map((c) => typeof c === "number" ? count(c) : c))];
  const numeric = head.map((_, i) =>
    rows.length > 0 && rows.every((r) => typeof r[i] === "number")
  );
  const widths = head.map((_, i) => Math.max(...text.map((r) => r[i].length)));
  return text.map((row) =>
    indent + row.map((cell, i) => {
      return numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
    }).join("  ").trimEnd()
  ).join("\n");
}

/** A time as "2026-01-01 10:00:00Z", or "never" for null. */
export function time(ts: number | null): string {
  if (ts === null) return "never";
  return new Date(ts).toISOString().slice(0, 19).replace("T", " ") + "Z";
}

/** A time with how far it is from `now`: "2026-01-01 10:00:00Z (5m ago)". */
export function timeFrom(ts: number | null, now: number): string {
  return ts === null ? "never" : `${time(ts)} (${relative(ts - now)})`;
}

const UNITS: [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], [
  "s",
  1_000,
]];

/** A signed distance in time, largest unit only: "in 5m", "2h ago", "now". */
function relative(deltaMs: number): string {
  const abs = Math.abs(deltaMs);
  const unit = UNITS.find(([, ms]) => abs >= ms);
  if (!unit) return "now";
  const amount = `${Math.floor(abs / unit[1])}${unit[0]}`;
  return deltaMs > 0 ? `in ${amount}` : `${amount} ago`;
}

/** `text` cut to `max` characters with an ellipsis, on one line. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}
