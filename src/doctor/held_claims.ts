/** Claims held far longer than their stage's timeout: a stuck process that keeps its leases. */
import type { Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { formatDuration } from "../util/units.ts";
import { type Finding, formatSpan, isoTime, plural } from "./finding.ts";

/** How many of a stage's timeouts a claim may be held before it is reported. */
const TIMEOUTS_ALLOWED = 2;

/**
 * A warning per stage and run holding claims of `job` for longer than twice the stage's timeout.
 * A handler is aborted at its timeout and its outcome written at once, so such claims mean a
 * process that renews its leases without working, which no other machine can tell from a busy one.
 */
export async function heldClaimFindings(
  db: Store,
  job: JobConfig,
  options: { now: number },
): Promise<Finding[]> {
  const timeouts = new Map(job.stages.map((s) => [s.name, s.timeoutMs]));
  const findings: Finding[] = [];
  for (const held of await db.heldClaims({ jobId: job.id, now: () => options.now })) {
    const timeoutMs = timeouts.get(held.stage);
    if (timeoutMs === undefined || held.oldestStartedAt === null) continue;
    const heldMs = options.now - held.oldestStartedAt;
    if (heldMs <= TIMEOUTS_ALLOWED * timeoutMs) continue;
    const where = held.host === null
      ? "an unregistered process"
      : `pid ${held.pid} on ${held.host}`;
    findings.push({
      id: "claims-held-long",
      severity: "warning",
      job: job.id,
      title: `Job "${job.id}": ${plural(held.claims, "claim")} of stage "${held.stage}" held by ` +
        `run ${held.runId} for ${formatSpan(heldMs)}`,
      explanation: `The run (${where}) claimed the oldest at ${isoTime(held.oldestStartedAt)}, ` +
        `over ${TIMEOUTS_ALLOWED}× the stage's timeout of ${
          formatDuration(timeoutMs)
        }. A handler ` +
        "is stopped at its timeout and its outcome written at once, so the process is stuck " +
        "while it renews its leases; no other run takes these items until it stops",
      fix: held.host === null
        ? "stop the process that holds them; their leases then expire"
        : `on ${held.host}: kill ${held.pid} (its claims go back to pending when their lease ends)`,
      safeFix: false,
    });
  }
  return findings;
}
