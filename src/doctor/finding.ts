/** What a health check reports, and the small text helpers its messages share. */

/** How bad a finding is: errors exit 2, warnings 1, info 0. */
export type Severity = "error" | "warning" | "info";

/** One problem found by `jobctl doctor`. */
export interface Finding {
  /** Stable identifier of the check, e.g. "leases-expired". */
  id: string;
  severity: Severity;
  /** The job it concerns, when it concerns one. */
  job?: string;
  title: string;
  /** What is wrong and why it matters, in plain words. */
  explanation: string;
  /** The command (or, when no command can, the edit) that fixes it. */
  fix: string;
  /** Whether `jobctl doctor --fix` applies the fix. */
  safeFix: boolean;
}

/** A safe fix `jobctl doctor --fix` applied. */
export interface Fixed {
  /** The id of the finding it fixed. */
  id: string;
  job?: string;
  /** What was done, in plain words. */
  action: string;
}

/** The fix command `jobctl doctor --fix`. */
export const DOCTOR_FIX = "jobctl doctor --fix";

const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

/** `value` quoted for a POSIX shell: bare when safe, double quotes when enough, else single. */
export function shellQuote(value: string): string {
  if (SHELL_SAFE.test(value)) return value;
  if (!/["$`\\!]/.test(value)) return `"${value}"`;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Bytes in the largest binary unit that keeps the number at or above 1: "80.0 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A time as an ISO 8601 UTC string without milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A span of time to the minute, largest two units: "2d 3h", "5h 30m", "12m". */
export function formatSpan(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const parts: [number, string][] = [
    [Math.floor(minutes / 1440), "d"],
    [Math.floor(minutes / 60) % 24, "h"],
    [minutes % 60, "m"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first === -1) return "0m";
  return parts.slice(first, first + 2).filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`).join(" ");
}
