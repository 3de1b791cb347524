/** The one worker: claims a stage's items in batches and runs its handler on each. */
import type { JobConfig, StageConfig } from "../config/types.ts";
import { type Claim, claimBatch } from "../db/claims.ts";
import { releaseClaims } from "../db/leases.ts";
import { logCost } from "../db/events.ts";
import type { RunContext } from "./context.ts";
import type { Handler, HandlerContext } from "./handlers.ts";
import { classifyError, type Outcome, SkipSignal, toStoredResult } from "./outcome.ts";
import type { OutcomeWriter } from "./outcome_writer.ts";
import { createPacedFetch } from "./paced_fetch.ts";
import { type Pacer, sleep } from "./pacer.ts";
import type { Resources } from "./resources.ts";
import type { Budget } from "./budget.ts";
import { formatDuration } from "../config/units.ts";

/** Everything one stage's worker needs. */
export interface StageWorkerDeps {
  job: JobConfig;
  stage: StageConfig;
  handler: Handler;
  ctx: RunContext;
  writer: OutcomeWriter;
  pacer: Pacer;
  resources: Resources;
  budget: Budget;
  leaseMs: number;
  /** Aborts handlers still running when the shutdown grace period is over. */
  hardSignal: AbortSignal;
  /** Resolves when the previous stage's worker has finished (single pass); null for the first. */
  upstream: Promise<void> | null;
}

/** Most claims taken in one statement. */
const MAX_BATCH = 64;
/** How often an idle worker looks for new work that no local event announced. */
const IDLE_POLL_MS = 1000;

/**
 * Runs the stage until nothing is left to claim and the previous stage has finished (single
 * pass), or until the run is stopped. Claims are taken in batches and run `concurrency` at a time.
 */
export async function stageWorker(d: StageWorkerDeps): Promise<void> {
  const { ctx, stage } = d;
  const running = new Set<Promise<void>>();
  const queue: Claim[] = [];
  let upstreamDone = d.upstream === null;
  d.upstream?.then(() => upstreamDone = true);
  let claimed = 0;
  while (!ctx.signal.aborted) {
    if (running.size >= stage.concurrency) {
      await Promise.race(running);
      continue;
    }
    if (queue.length === 0) {
      const finalCheck = upstreamDone && running.size === 0;
      const want = Math.min(
        MAX_BATCH,
        stage.concurrency * 2 - running.size,
        (ctx.limit ?? Infinity) - claimed,
      );
      const claims = want > 0 && !(await d.budget.exceeded()) ? await claim(d, want) : [];
      claimed += claims.length;
      if (claims.length === 0) {
        if (ctx.singlePass && finalCheck) break;
        await idle(d, running, upstreamDone, claimed >= (ctx.limit ?? Infinity));
        continue;
      }
      queue.push(...claims);
    }
    const next = queue.shift()!;
    const task = runClaim(d, next).finally(() => running.delete(task));
    running.add(task);
  }
  if (queue.length) await releaseClaims(ctx.db, { runId: ctx.runId, items: queue });
  await Promise.all(running);
  await d.writer.flush();
}

function claim(d: StageWorkerDeps, limit: number): Promise<Claim[]> {
  return claimBatch(d.ctx.db, {
    jobId: d.job.id,
    stage: d.stage.name,
    runId: d.ctx.runId,
    limit,
    leaseMs: d.leaseMs,
    now: d.ctx.now,
  });
}

/** Waits for something that may make work claimable: an outcome, a finished task, a poll. */
async function idle(
  d: StageWorkerDeps,
  running: Set<Promise<void>>,
  upstreamDone: boolean,
  limitReached: boolean,
): Promise<void> {
  const waits: Promise<unknown>[] = [...running, d.writer.changed()];
  if (d.upstream && !upstreamDone) waits.push(d.upstream);
  if (!d.ctx.singlePass || limitReached || running.size === 0) {
    waits.push(sleep(IDLE_POLL_MS, d.ctx.signal).catch(() => {}));
  }
  await Promise.race(waits);
}

async function runClaim(d: StageWorkerDeps, claim: Claim): Promise<void> {
  const { stage } = d;
  if (claim.attempts > stage.retries + 1) {
    return record(d, claim, {
      kind: "error",
      message: `Gave up after ${
        claim.attempts - 1
      } attempts that never finished (crash or lost lease)`,
      permanent: true,
    }, 0);
  }
  const started = d.ctx.now();
  let release: (() => void) | undefined;
  const timeout = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const costs: Promise<unknown>[] = [];
  let outcome: Outcome;
  try {
    release = await d.resources.acquire(stage.uses, d.hardSignal);
    timer = setTimeout(() => timeout.abort(), stage.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, d.hardSignal]);
    const value = await untilAborted(
      d.handler.run(
        { key: claim.key, data: claim.data },
        handlerContext(d, claim, signal, costs),
      ),
      signal,
    );
    outcome = toStoredResult(value);
  } catch (err) {
    if (d.hardSignal.aborted) {
      await Promise.allSettled(costs);
      await releaseClaims(d.ctx.db, { runId: d.ctx.runId, items: [claim] });
      return;
    }
    const timedOut = timeout.signal.aborted
      ? `Timed out after ${formatDuration(stage.timeoutMs)}`
      : undefined;
    outcome = classifyError(err, timedOut);
  } finally {
    clearTimeout(timer);
    release?.();
  }
  await Promise.allSettled(costs);
  record(d, claim, outcome, d.ctx.now() - started);
}

/** Resolves or rejects with `promise`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function handlerContext(
  d: StageWorkerDeps,
  claim: Claim,
  signal: AbortSignal,
  costs: Promise<unknown>[],
): HandlerContext {
  const where = { job: d.job.id, stage: d.stage.name, item: claim.key };
  return {
    signal,
    log: {
      info: (m, data) => d.ctx.log.info(m, { ...where, ...data }),
      warn: (m, data) => d.ctx.log.warn(m, { ...where, ...data }),
      error: (m, data) => d.ctx.log.error(m, { ...where, ...data }),
    },
    cost(usd, meta) {
      d.budget.add(usd);
      costs.push(
        logCost(d.ctx.db, {
          jobId: d.job.id,
          itemId: claim.itemId,
          stage: d.stage.name,
          usd,
          meta,
        }),
      );
    },
    fetch: createPacedFetch(d.pacer, d.stage.domainRate, signal),
    skip(reason: string): never {
      throw new SkipSignal(reason);
    },
    results: claim.results,
    job: d.job.id,
    stage: d.stage.name,
    mode: d.ctx.mode,
    attempt: claim.attempts,
  };
}

function record(d: StageWorkerDeps, claim: Claim, outcome: Outcome, durationMs: number): void {
  const base = { itemId: claim.itemId, stage: claim.stage, position: claim.position };
  if (outcome.kind === "done") {
    d.writer.done({ ...base, result: outcome.result, handlerVersion: d.handler.version });
  } else if (outcome.kind === "skipped") {
    d.writer.skipped({ ...base, reason: outcome.reason });
  } else {
    d.ctx.log.warn(outcome.message, {
      job: d.job.id,
      stage: claim.stage,
      item: claim.key,
      attempt: claim.attempts,
    });
    d.writer.failed({
      ...base,
      error: outcome.message,
      permanent: outcome.permanent,
      retries: d.stage.retries,
      backoffMs: d.stage.backoffMs,
      retryAfterMs: outcome.retryAfterMs,
    });
  }
  d.ctx.onStageResult?.({
    jobId: d.job.id,
    stage: claim.stage,
    key: claim.key,
    input: { key: claim.key, data: claim.data, results: claim.results },
    outcome: outcome.kind !== "error"
      ? outcome.kind
      : outcome.permanent || claim.attempts > d.stage.retries
      ? "failed"
      : "retry",
    output: outcome.kind === "done"
      ? outcome.result
      : outcome.kind === "skipped"
      ? outcome.reason
      : outcome.message,
    durationMs,
  });
}
