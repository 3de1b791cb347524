/** The one worker: claims a stage's items in batches and runs its handler on each. */
import type { Claim, EmittedItems } from "../db/store.ts";
import type { JobConfig, StageConfig } from "../config/types.ts";

import type { RunContext } from "./context.ts";
import type { Handler } from "./handlers.ts";
import { classifyError, type Outcome, toStoredResult } from "./outcome.ts";
import type { OutcomeWriter } from "./outcome_writer.ts";
import type { Pacer } from "./pacer.ts";
import type { Resources } from "./resources.ts";
import type { Budget } from "./budget.ts";
import { formatDuration } from "../util/units.ts";
import { plural } from "../util/format.ts";
import { type ClaimAbort, ClaimAborts } from "./_claim_aborts.ts";
import { ClaimContext } from "./_claim_context.ts";
import { HandlerExitError, runCaught, UncaughtError } from "./handler_guard.ts";
import { describeThrown } from "../util/errors.ts";
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
  onStray: (claim: Claim, error: Error) => void;
  /** How often an idle worker looks for work no local event announced; default 1 s. */
  idlePollMs?: number;
}

/** Most claims taken in one statement. */
const MAX_BATCH = 64;
/** Claimed work kept ahead of the running handlers, in handler time (for quick handlers). */
const QUEUE_AHEAD_MS = 100;
/** How often an idle worker looks for new work that no local event announced, by default. */
const IDLE_POLL_MS = 1000;
/**
 * Attempts of a claim that may end without an outcome (the process running it died, its lease
 * was lost) before the stage fails. They do not count against `retries`: a crash is not the
 * handler's failure, but a handler that takes its worker down every time must end.
 */
export const MAX_CRASHES = 3;
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
        const next = this.#queue.shift();
        if (next) this.#start(next);
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

  #start(claim: Claim): void {
    const started = performance.now();
    const task: Promise<unknown> = runClaim(this.d, this.#aborts, claim)
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

/** Waits for something that may make work claimable: an outcome, a finished task, a poll. */
async function idle(d: StageWorkerDeps, wake: Wakeup, poll: boolean): Promise<void> {
  const timer = poll ? setTimeout(wake.notify, d.idlePollMs ?? IDLE_POLL_MS) : undefined;
  await wake.wait();
  clearTimeout(timer);
}

async function runClaim(d: StageWorkerDeps, aborts: ClaimAborts, claim: Claim): Promise<void> {
  const { stage } = d;
  if (claim.crashes >= MAX_CRASHES) {
    return record(d, claim, {
      kind: "error",
      message: `Gave up after ${
        plural(claim.crashes, "attempt")
      } that never finished: each time the process running it died or lost its lease`,
      permanent: true,
    }, 0);
  }
  const started = d.ctx.now();
  let release: (() => void) | undefined;
  let ended: (() => void) | undefined;
  let abort: ClaimAbort | undefined;
  const costs: Promise<unknown>[] = [];
  let outcome: Outcome;
  let ctx: ClaimContext | undefined;
  const span = startAttemptSpan({
    job: d.job.id,
    stage: stage.name,
    key: claim.key,
    attempt: claim.attempts,
    handlerVersion: d.handler.version,
  });
  try {
    if (stage.uses.length) release = await d.resources.acquire(stage.uses, d.hardSignal);
    ended = d.ctx.activity?.handlerStarted(d.job.id, stage.name);
    const value = await aborts.run((a) => {
      abort = a;
      const item = { key: claim.key, data: claim.data };
      const claimCtx = ctx = new ClaimContext(d, claim, a.signal, costs);
      const call = () =>
        runCaught(
          (error) => stray(d, aborts, a, claim, error),
          () => d.handler.run(item, claimCtx),
        );
      return span ? span.run(call) : call();
    });
    outcome = toStoredResult(value);
  } catch (err) {
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
    ended?.();
    release?.();
  }
  if (costs.length) await Promise.all(costs);
  record(d, claim, outcome, d.ctx.now() - started, ctx?.emitted ?? []);
  span?.end(outcomeName(d, claim, outcome), outcome.kind === "error" ? outcome.message : undefined);
  // A failure is written at once, so the circuit breaker trips before another handler starts.
  if (outcome.kind === "error") await d.writer.flush();
}

/**
 * An error that escaped the claim's handler (a timer, an unawaited promise, an exit call): it
 * fails the claim while it runs; afterwards it is the job's handler error.
 */
function stray(
  d: StageWorkerDeps,
  aborts: ClaimAborts,
  abort: ClaimAbort,
  claim: Claim,
  error: unknown,
): void {
  const wrapped = error instanceof HandlerExitError
    ? error
    : new UncaughtError(describeThrown(error), { cause: error });
  if (!aborts.fail(abort, wrapped)) d.onStray(claim, wrapped);
}

function record(
  d: StageWorkerDeps,
  claim: Claim,
  outcome: Outcome,
  durationMs: number,
  emit: EmittedItems[] = [],
): void {
  const base = { itemId: claim.itemId, stage: claim.stage, position: claim.position };
  if (outcome.kind === "done") {
    const mark = { ...base, result: outcome.result, handlerVersion: d.handler.version };
    d.writer.done(emit.length ? { ...mark, emit } : mark);
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
    outcome: outcomeName(d, claim, outcome),
    output: outcome.kind === "done"
      ? outcome.result
      : outcome.kind === "skipped"
      ? outcome.reason
      : outcome.message,
    durationMs,
  });
}

/** What becomes of the stage: done, skipped, retry or failed. */
function outcomeName(
  d: StageWorkerDeps,
  claim: Claim,
  outcome: Outcome,
): "done" | "skipped" | "retry" | "failed" {
  if (outcome.kind !== "error") return outcome.kind;
  return outcome.permanent || claim.attempts > d.stage.retries ? "failed" : "retry";
}
