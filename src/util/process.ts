/** Facts about OS processes, used to tell a live claimer from a dead one. */
import { hostname } from "node:os";

/** This machine's name as recorded in claims. */
export function hostName(): string {
  return hostname();
}

/**
 * The start time of process `pid` in clock ticks since boot (Linux /proc), or undefined when
 * the process does not exist or the system has no /proc. Together with the pid it names one
 * process even after the pid is reused.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 2 (comm) may contain spaces and parentheses; fields after the last ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process `pid` that started at `startTime` still runs on this host. Without /proc
 * the answer is "alive", so only its lease can release its claims.
 */
export function isProcessAlive(pid: number, startTime: string | null): boolean {
  let procExists = true;
  try {
    Deno.statSync("/proc/self/stat");
  } catch {
    procExists = false;
  }
  if (!procExists) return true;
  const current = processStartTime(pid);
  if (current === undefined) return false;
  return startTime === null || current === startTime;
}
