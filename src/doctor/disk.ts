/** Free space on the filesystem that holds the database, measured with POSIX `df -Pk`. */
import { dirname, resolve } from "node:path";
import { type Finding, formatBytes, shellQuote } from "./finding.ts";

/** Free space below which a warning is given: either limit. */
export interface DiskLimits {
  /** Default 1 GiB. */
  bytes: number;
  /** Fraction of the filesystem's size. Default 0.05. */
  ratio: number;
}

/** The default disk limits. */
export const DISK_LIMITS: DiskLimits = { bytes: 1024 ** 3, ratio: 0.05 };

interface DiskSpace {
  freeBytes: number;
  sizeBytes: number;
  mount: string;
}

/** A warning when the database's filesystem has less free space than `limits`. */
export async function diskFindings(dbPath: string, limits: DiskLimits): Promise<Finding[]> {
  const dir = dirname(resolve(dbPath));
  const space = await measure(dir);
  if (!space) {
    return [{
      id: "disk-unknown",
      severity: "info",
      title: "Free disk space could not be measured",
      explanation: `"df -Pk ${dir}" did not run or printed something unexpected`,
      fix: `check by hand: df -h ${shellQuote(dir)}`,
      safeFix: false,
    }];
  }
  const ratio = space.sizeBytes ? space.freeBytes / space.sizeBytes : 0;
  if (space.freeBytes >= limits.bytes && ratio >= limits.ratio) return [];
  return [{
    id: "disk-space",
    severity: "warning",
    title: `Only ${formatBytes(space.freeBytes)} (${
      (ratio * 100).toFixed(1)
    }%) free on ${space.mount}`,
    explanation: `The database's filesystem is nearly full (the warning starts below ${
      formatBytes(limits.bytes)
    } or ${limits.ratio * 100}%). When it fills, every write fails and runs stop`,
    fix: `free space on ${space.mount}; see what uses it with: du -sh ${shellQuote(dir)}/*`,
    safeFix: false,
  }];
}

async function measure(dir: string): Promise<DiskSpace | null> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("df", { args: ["-Pk", dir], stdout: "piped", stderr: "null" })
      .output();
  } catch {
    return null;
  }
  if (!output.success) return null;
  // Filesystem, 1024-blocks, Used, Available, Capacity, Mounted on (which may hold spaces).
  const line = new TextDecoder().decode(output.stdout).trim().split("\n")[1] ?? "";
  const match = line.match(/^\S.*?\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(.+)$/);
  if (!match) return null;
  const used = Number(match[2]) * 1024;
  const free = Number(match[3]) * 1024;
  // Used + available leaves out the blocks reserved for root, as df's Capacity does.
  return { freeBytes: free, sizeBytes: used + free, mount: match[4] };
}
