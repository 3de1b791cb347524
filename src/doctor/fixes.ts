/**
 * The safe fixes of `jobctl doctor --fix`: release abandoned claims and discovery leases, add
 * stage rows, checkpoint.
 */
import type { Store } from "../db/store.ts";
import type { Config } from "../config/types.ts";

import { plural } from "../util/format.ts";
import { type Finding, type Fixed, formatBytes } from "./finding.ts";

/** Applies the fix of every safe finding in `findings`, and only those; returns what it did. */
export async function applySafeFixes(
  db: Store,
  findings: readonly Finding[],
  options: { config?: Config; now: () => number },
): Promise<Fixed[]> {
  const safe = findings.filter((f) => f.safeFix);
  const fixed: Fixed[] = [];
  if (safe.some((f) => f.id === "leases-expired")) {
    const { expired, deadProcess } = await db.reconcileExpiredLeases({ now: options.now });
    fixed.push({
      id: "leases-expired",
      action: `released ${plural(expired + deadProcess, "claim")} back to pending ` +
        `(${expired} with an expired lease, ${deadProcess} of processes that are gone)`,
    });
  }
  if (safe.some((f) => f.id === "discovery-lease-abandoned")) {
    for (const lease of await db.releaseDeadDiscoveryLeases({ now: options.now })) {
      fixed.push({
        id: "discovery-lease-abandoned",
        job: lease.jobId,
        action: `released the discovery lease of process ${lease.pid}, which is gone`,
      });
    }
  }
  for (const finding of safe.filter((f) => f.id === "stage-rows-missing")) {
    const job = options.config?.jobs.find((j) => j.id === finding.job);
    if (!job) continue;
    const stages = job.stages.map((s) => s.name);
    const added = await db.addMissingStageRows({ jobId: job.id, stages });
    if (added === null) continue;
    fixed.push({ id: finding.id, job: job.id, action: `added ${plural(added, "stage row")}` });
  }
  // Last, so the log the other fixes wrote is checkpointed too.
  if (safe.some((f) => f.id === "wal-size")) fixed.push(await checkpoint(db));
  return fixed;
}

async function checkpoint(db: Store): Promise<Fixed> {
  const before = await db.walSize();
  const { busy, walBytes } = await db.checkpointWal();
  return {
    id: "wal-size",
    action: busy
      ? `checkpointed the write-ahead log only in part: a reader held it (${
        formatBytes(walBytes)
      } left)`
      : `checkpointed the write-ahead log (${formatBytes(before)} → ${formatBytes(walBytes)})`,
  };
}
