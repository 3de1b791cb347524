/** Facts about OS processes, used to tell a live claimer from a dead one. */
import { hostname } from "node:os";
import process from "node:process";

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
 * Whether the process `pid` that started at `startTime` still runs on this host. Deno reads
 * /proc only with --allow-all, so without it the kernel is asked by signal 0; when even that is
 * not allowed (no --allow-run) the answer is "alive", so only its lease can release its claims.
 */
export function isProcessAlive(pid: number, startTime: string | null): boolean {
  const current = processStartTime(pid);
  if (current !== undefined) return startTime === null || current === startTime;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // ESRCH: no such process; EPERM: it runs as another user; anything else: cannot tell.
    return (err as { code?: string }).code !== "ESRCH";
  }
}
