/** The rule that tells an abandoned discovery lease from a held one, the same on both engines. */
import type { DeadDiscoveryLease, ReconcileOptions } from "./types.ts";
import { hostName, isProcessAlive } from "../util/process.ts";

/** A job's unexpired discovery lease with the run that holds it (null when not registered). */
export interface DiscoveryHolderRow {
  job_id: string;
  discovery_owner: string;
  discovery_lease_until: number;
  host: string | null;
  pid: number | null;
  pid_start: string | null;
}

/** The host whose processes the store may judge, and how it asks whether one runs. */
export function holderCheck(options: ReconcileOptions): {
  host: string;
  isAlive: (pid: number, pidStart: string | null) => boolean;
} {
  return { host: options.host ?? hostName(), isAlive: options.isAlive ?? isProcessAlive };
}

/** The leases of `rows` whose holder is a process of this host that no longer runs. */
export function deadHolders(
  rows: readonly DiscoveryHolderRow[],
  options: ReconcileOptions,
): DeadDiscoveryLease[] {
  const { host, isAlive } = holderCheck(options);
  return rows.filter((r) =>
    r.host === host && r.pid !== null && r.pid !== Deno.pid && !isAlive(r.pid, r.pid_start)
  ).map((r) => ({
    jobId: r.job_id,
    owner: r.discovery_owner,
    host: r.host!,
    pid: r.pid!,
    leaseUntil: Number(r.discovery_lease_until),
  }));
}

/** The event message of a released lease. */
export function releasedMessage(lease: DeadDiscoveryLease): string {
  return `discovery lease released: process ${lease.pid} on ${lease.host} is gone ` +
    `(held by ${lease.owner})`;
}
