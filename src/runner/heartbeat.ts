/** The run's heartbeat: renews its claims' and discoveries' leases, one beat at a time. */
import type { RunContext } from "./context.ts";
import { describeThrown } from "../util/errors.ts";
import { sleep } from "../util/time.ts";

/** What the heartbeat needs of the run. */
export type HeartbeatContext = Pick<RunContext, "db" | "runId" | "log" | "now">;

/** A running heartbeat; stop() ends it (a beat in flight finishes on its own). */
export interface Heartbeat {
  stop(): void;
}

/** Least time between the end of one beat and the start of the next. */
const MIN_INTERVAL_MS = 50;

/**
 * Renews the run's leases every third of the lease, and every third beat releases the claims of
 * expired leases and dead processes. The next beat waits for the previous one to end, so a slow
 * store never has several beats of one run in flight.
 */
export function startHeartbeat(ctx: HeartbeatContext, leaseMs: number): Heartbeat {
  const stopped = new AbortController();
  const interval = Math.max(MIN_INTERVAL_MS, leaseMs / 3);
  (async () => {
    for (let beats = 1; !stopped.signal.aborted; beats++) {
      try {
        await sleep(interval, stopped.signal);
      } catch {
        return;
      }
      await beat(ctx, leaseMs, beats);
    }
  })();
  return { stop: () => stopped.abort() };
}

async function beat(ctx: HeartbeatContext, leaseMs: number, beats: number): Promise<void> {
  const { db, runId, now } = ctx;
  try {
    await db.renewLeases({ runId, leaseMs, now });
    if (beats % 3 === 0) await db.reconcileExpiredLeases({ now });
  } catch (err) {
    ctx.log.error(`Cannot renew leases: ${describeThrown(err)}`);
  }
}
