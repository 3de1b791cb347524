/** The one worker: claims a stage's items in batches and runs its handler on each. */
import type { Claim } from "../db/store.ts";
import type { BatchConfig, JobConfig, StageConfig } from "../config/types.ts";

import type { RunContext } from "./context.ts";
import type { Handler, ItemHandler } from "./handlers.ts";
import { classifyError, type Outcome, toStoredResult } from "./outcome.ts";
import {
  gaveUp,
  noteStarted,
  outcomeName,
  record,
  type StrayClaim,
  StrayRoute,
} from "./_claim_outcome.ts";
import { runBatch } from "./_batch_claim.ts";
import type { OutcomeWriter } from "./outcome_writer.ts";
import type { Pacer } from "./pacer.ts";
import type { Resources } from "./resources.ts";
import type { Budget } from "./budget.ts";
import { formatDuration } from "../util/units.ts";
import { StoreError } from "../util/errors.ts";
import { type ClaimAbort, ClaimAborts } from "./_claim_aborts.ts";
import { ClaimContext } from "./_claim_context.ts";
import { runCaught } from "./handler_guard.ts";
import { startAttemptSpan } from "./tracing.ts";

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
  /** Stage names of every job of jobs.yaml: where handlers may emit items. */
  jobStages: ReadonlyMap<string, readonly string[]>;
  /** Aborts handlers still running when the shutdown grace period is over. */
  hardSignal: AbortSignal;
  /** Resolves when the previous stage's worker has finished (single pass); null for the first. */
  upstream: Promise<void> | null;
  /** True once the job's circuit breaker has paused it. */
  halted: () => boolean;
  /** Takes an error a handler let escape after its claim's outcome was decided. */
  onStray: (claim: StrayClaim, error: Error) => void;
  /** How often an idle worker looks for work no local event announced; default 1 s. */
  idlePollMs?: number;
}

/** Most claims taken in one statement. */
const MAX_BATCH = 64;
/** Claimed work kept ahead of the running handlers, in handler time (for quick handlers). */
const QUEUE_AHEAD_MS = 100;
/** How often an idle worker looks for new work that no local event announced, by default. */
const IDLE_POLL_MS = 1000;
/** Longest the loop runs before it lets timers, signals and I/O in (see yieldToEventLoop). */
const YIELD_EVERY_MS = 50;

/**
 * Runs the stage until nothing is left to claim and the previous stage has finished (single
 * pass), or until the run is stopped. Claims are taken in batches and run `concurrency` at a time.
 */
export async function stageWorker(d: StageWorkerDeps): Promise<void> {
  try {
    await new StageLoop(d).run();
  } finally {
    d.ctx.activity?.workerEnded(d.job.id, d.stage.name, d.ctx.now());
  }
}

/** The state of one stage's worker loop: `while (!stopping) { claim; process; wait }`. */
class StageLoop {
  readonly #running = new Set<Promise<unknown>>();
  readonly #queue: Claim[] = [];
  readonly #wake = new Wakeup();
  readonly #aborts: ClaimAborts;
  #fatal: { error: unknown } | undefined;
  #upstreamDone: boolean;
  #claimed = 0;
  /** When the first claim of the batch being filled was taken (batch stages). */
  #fillingSince = 0;
  /** True when the claims queued make a batch to start (batch stages). */
  #batchReady = false;
  /** Moving mean of the time a claim takes, once one has finished. */
  #meanMs = Infinity;

  constructor(readonly d: StageWorkerDeps) {
    this.#aborts = new ClaimAborts(d.stage.timeoutMs, d.hardSignal);
    this.#upstreamDone = d.upstream === null;
    d.upstream?.then(() => {
      this.#upstreamDone = true;
      this.#wake.notify();
    });
  }

  async run(): Promise<void> {
    const { signal } = this.d.ctx;
    signal.addEventListener("abort", this.#wake.notify, { once: true });
    // A flush may make work claimable (an earlier stage's outcome).
    const unsubscribe = this.d.writer.onChange(this.#wake.notify);
    let yieldedAt = performance.now();
    try {
      // A failure to record (here or in another stage of the job) stops the loop at once.
      while (!signal.aborted && !this.#fatal && !this.d.writer.broken) {
        if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          yieldedAt = performance.now();
        }
        if (this.#running.size >= this.d.stage.concurrency) {
          await this.#wake.wait();
          continue;
        }
        if (!await this.#refill()) break;
        this.#startNext();
      }
    } finally {
      signal.removeEventListener("abort", this.#wake.notify);
      unsubscribe();
      await release(this.d, this.#queue.splice(0));
      await Promise.all(this.#running);
      this.#aborts.dispose();
      await this.d.writer.flush();
    }
    // Failing to record an outcome is the one error that stops the worker.
    if (this.#fatal) throw this.#fatal.error;
  }

  /**
   * Makes sure a claim waits in the queue: claims a batch, or idles until something changes.
   * Returns false when a single pass is over.
   */
  async #refill(): Promise<boolean> {
    const { d } = this;
    if (d.stage.batch) return await this.#refillBatch(d.stage.batch);
    // A budget reached or a tripped circuit breaker also stops claims already taken.
    if (this.#queue.length && await holdBack(d)) await release(d, this.#queue.splice(0));
    if (this.#queue.length) return true;
    const finalCheck = this.#upstreamDone && this.#running.size === 0;
    const limit = d.ctx.limit ?? Infinity;
    const want = Math.min(this.#batchSize() - this.#running.size, limit - this.#claimed);
    const claims = want > 0 && !(await holdBack(d)) ? await claim(d, want) : [];
    this.#claimed += claims.length;
    this.#queue.push(...claims);
    if (claims.length) return true;
    if (d.ctx.singlePass && finalCheck) return false;
    const poll = !d.ctx.singlePass || this.#claimed >= limit || this.#running.size === 0;
    await idle(d, this.#wake, poll);
    return true;
  }

  /**
   * Claims to hold, running ones included: twice the concurrency, or more for quick handlers
   * (up to QUEUE_AHEAD_MS of work), so that they are claimed in fewer, larger statements.
   */
  #batchSize(): number {
    const { concurrency } = this.d.stage;
    const ahead = Math.floor(concurrency * QUEUE_AHEAD_MS / this.#meanMs);
    return Math.min(MAX_BATCH + this.#running.size, Math.max(concurrency * 2, ahead));
  }

  /**
   * Keeps claims for the next batch: up to `size`, no more than --limit leaves. The batch is
   * ready when full, or once no more work can come (nothing left to claim, the previous stage
   * done, a single pass), or when its first claim has waited `wait`. The heartbeat renews the
   * leases of claims waiting here as it does those of running ones. Returns false when a single
   * pass is over.
   */
  async #refillBatch({ size, waitMs }: BatchConfig): Promise<boolean> {
    const { d } = this;
    if (this.#queue.length && await holdBack(d)) await release(d, this.#queue.splice(0));
    const finalCheck = this.#upstreamDone && this.#running.size === 0;
    const left = (d.ctx.limit ?? Infinity) - this.#claimed;
    const want = Math.min(size - this.#queue.length, left);
    const claims = want > 0 && !(await holdBack(d)) ? await claim(d, want) : [];
    this.#claimed += claims.length;
    if (claims.length && !this.#queue.length) this.#fillingSince = d.ctx.now();
    this.#queue.push(...claims);
    if (!this.#queue.length) {
      if (d.ctx.singlePass && finalCheck) return false;
      await idle(d, this.#wake, !d.ctx.singlePass || left <= 0 || this.#running.size === 0);
      return true;
    }
    const waited = d.ctx.now() - this.#fillingSince;
    const noMore = left <= claims.length ||
      (claims.length < want && d.ctx.singlePass && this.#upstreamDone);
    this.#batchReady = this.#queue.length >= size || noMore || waited >= waitMs;
    // Polls at least as often as an idle worker, so that an injected clock is looked at.
    const pollMs = Math.min(waitMs - waited, d.idlePollMs ?? IDLE_POLL_MS);
    if (!this.#batchReady) await idle(d, this.#wake, true, pollMs);
    return true;
  }

  /** Starts the handler on the next claim, or on the next batch once it is ready. */
  #startNext(): void {
    const { d } = this;
    const { handler } = d;
    if (!("runBatch" in handler)) {
      const next = this.#queue.shift();
      if (next) this.#track(() => runClaim(d, handler, this.#aborts, next));
    } else if (this.#batchReady && this.#queue.length) {
      this.#batchReady = false;
      const batch = this.#queue.splice(0, d.stage.batch?.size ?? 1);
      this.#track(() => runBatch(d, handler, this.#aborts, batch));
    }
  }

  /** Runs `call` (a handler call) and holds it until it ends; a failure to record is fatal. */
  #track(call: () => Promise<void>): void {
    const started = performance.now();
    const task: Promise<unknown> = call()
      .then(
        () => this.#observe(performance.now() - started),
        (error) => this.#fatal ??= { error },
      )
      .finally(() => {
        this.#running.delete(task);
        this.#wake.notify();
      });
    this.#running.add(task);
  }

  #observe(ms: number): void {
    this.#meanMs = this.#meanMs === Infinity ? ms : this.#meanMs + (ms - this.#meanMs) / 8;
  }
}

/**
 * Lets the event loop turn. The store answers synchronously and quick handlers settle in
 * microtasks, so without this a busy worker would starve timers (heartbeat, flushes, timeouts)
 * and SIGINT/SIGTERM until no work is left. A timer, because setImmediate does not always let
 * signals in.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Whether the job must not start more handlers now: budget reached or circuit breaker open. */
function holdBack(d: StageWorkerDeps): boolean | Promise<boolean> {
  if (d.halted()) return true;
  return d.job.budget ? d.budget.exceeded() : false;
}

async function release(d: StageWorkerDeps, claims: Claim[]): Promise<void> {
  if (claims.length) await d.ctx.db.releaseClaims({ runId: d.ctx.runId, items: claims });
}

/**
 * Wakes the worker loop. Waiting on one promise that is replaced at each wake-up, instead of
 * racing long-lived promises (which keeps a reaction per race until they settle), keeps memory
 * flat over millions of items.
 */
class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  /** Wakes the waiter, or the next wait() when no one waits. */
  notify = (): void => {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    if (resolve) resolve();
    else this.#pending = true;
  };

  /** Resolves at the next notify() (at once if one came since the last wait). */
  wait(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#resolve = resolve);
  }
}

function claim(d: StageWorkerDeps, limit: number): Promise<Claim[]> {
  return d.ctx.db.claimBatch({
    jobId: d.job.id,
    stage: d.stage.name,
    runId: d.ctx.runId,
    limit,
    leaseMs: d.leaseMs,
    now: d.ctx.now,
  });
}

/**
 * Waits for something that may make work claimable: an outcome, a finished task, a poll (after
 * `pollMs`).
 */
async function idle(
  d: StageWorkerDeps,
  wake: Wakeup,
  poll: boolean,
  pollMs = d.idlePollMs ?? IDLE_POLL_MS,
): Promise<void> {
  const timer = poll ? setTimeout(wake.notify, pollMs) : undefined;
  await wake.wait();
  clearTimeout(timer);
}

async function runClaim(
  d: StageWorkerDeps,
  handler: ItemHandler,
  aborts: ClaimAborts,
  claim: Claim,
): Promise<void> {
  const { stage } = d;
  if (gaveUp(d, claim)) return;
  const started = d.ctx.now();
  let release: (() => void) | undefined;
  let ended: (() => void) | undefined;
  let abort: ClaimAbort | undefined;
  const costs: Promise<unknown>[] = [];
  let outcome: Outcome;
  let ctx: ClaimContext | undefined;
  let route: StrayRoute | undefined;
  const span = startAttemptSpan({
    job: d.job.id,
    stage: stage.name,
    key: claim.key,
    attempt: claim.attempts,
    handlerVersion: d.handler.version,
  });
  try {
    if (stage.uses.length) release = await d.resources.acquire(stage.uses, d.hardSignal);
    await noteStarted(d, [claim]);
    ended = d.ctx.activity?.handlerStarted(d.job.id, stage.name);
    const value = await aborts.run((a) => {
      abort = a;
      const item = { key: claim.key, data: claim.data };
      const claimCtx = ctx = new ClaimContext(d, claim, a, costs);
      const caught = route = new StrayRoute(d, aborts, a, claim);
      const call = () => runCaught(caught.catch, () => handler.run(item, claimCtx));
      return span ? span.run(call) : call();
    });
    outcome = toStoredResult(value);
  } catch (err) {
    // Noting the start failed: as a failure to record an outcome, it stops the worker.
    if (err instanceof StoreError) throw err;
    if (d.hardSignal.aborted) {
      span?.end("released");
      if (costs.length) await Promise.all(costs);
      await d.ctx.db.releaseClaims({ runId: d.ctx.runId, items: [claim] });
      return;
    }
    const timedOut = abort?.timedOut
      ? `Timed out after ${formatDuration(stage.timeoutMs)}`
      : undefined;
    outcome = classifyError(err, timedOut);
  } finally {
    route?.ended();
    ended?.();
    release?.();
  }
  if (costs.length) await Promise.all(costs);
  record(d, claim, outcome, d.ctx.now() - started, ctx?.emitted ?? []);
  span?.end(outcomeName(d, claim, outcome), outcome.kind === "error" ? outcome.message : undefined);
  // A failure is written at once, so the circuit breaker trips before another handler starts.
  if (outcome.kind === "error") await d.writer.flush();
}
