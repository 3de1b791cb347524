/** Recording what became of a claim, shared by the one-item and the batch handler calls. */
import type { Claim, EmittedItems } from "../db/store.ts";
import type { Outcome } from "./outcome.ts";
import type { StageWorkerDeps } from "./stage_worker.ts";
import type { ClaimAbort, ClaimAborts } from "./_claim_aborts.ts";
import { HandlerExitError, UncaughtError } from "./handler_guard.ts";
import { describeThrown } from "../util/errors.ts";
import { plural } from "../util/format.ts";

/**
 * Attempts of a claim that may end without an outcome (the process running it died, its lease
 * was lost) before the stage fails. They do not count against `retries`: a crash is not the
 * handler's failure, but a handler that takes its worker down every time must end.
 */
export const MAX_CRASHES = 3;

/** Records a claim that crashed MAX_CRASHES times as failed, and returns true; else false. */
export function gaveUp(d: StageWorkerDeps, claim: Claim): boolean {
  if (claim.crashes < MAX_CRASHES) return false;
  record(d, claim, {
    kind: "error",
    message: `Gave up after ${
      plural(claim.crashes, "attempt")
    } that never finished: each time the process running it died or lost its lease`,
    permanent: true,
  }, 0);
  return true;
}

/**
 * Notes, before their handler runs, the claims that crashed before: if this run dies too, only
 * they (and claims that never crashed) count the crash, not those still waiting in its queue.
 * A claim that never crashed needs no note, so the common case costs no write.
 */
export async function noteStarted(d: StageWorkerDeps, claims: readonly Claim[]): Promise<void> {
  const suspects = claims.filter((claim) => claim.crashes > 0);
  if (suspects.length) await d.ctx.db.markStarted({ runId: d.ctx.runId, items: suspects });
}

/** The claim an error that escaped its handler after the call is recorded against. */
export type StrayClaim = Pick<Claim, "itemId" | "stage" | "key">;

/**
 * Where the errors that escape one handler call go (a timer, an unawaited promise, an exit
 * call): they fail the claim while the call runs; afterwards they are the job's handler errors.
 * The call's async context holds the route and every promise made inside the call carries that
 * context; one such promise promoted by the garbage collector keeps it until the next full
 * collection, so once the call has ended the route holds the claim's identity only, not its data
 * and running state (at thousands of claims a second, that halves what reaches the old space).
 */
export class StrayRoute {
  readonly #d: StageWorkerDeps;
  readonly #aborts: ClaimAborts;
  readonly #claim: StrayClaim;
  #abort: ClaimAbort | undefined;

  constructor(d: StageWorkerDeps, aborts: ClaimAborts, abort: ClaimAbort, claim: StrayClaim) {
    this.#d = d;
    this.#aborts = aborts;
    this.#abort = abort;
    this.#claim = { itemId: claim.itemId, stage: claim.stage, key: claim.key };
  }

  /** Takes an error that escaped the handler. */
  readonly catch = (error: unknown): void => {
    const wrapped = error instanceof HandlerExitError
      ? error
      : new UncaughtError(describeThrown(error), { cause: error });
    const abort = this.#abort;
    if (!abort || !this.#aborts.fail(abort, wrapped)) this.#d.onStray(this.#claim, wrapped);
  };

  /** The handler call has ended: what escapes it from now on is the job's. */
  ended(): void {
    this.#abort = undefined;
  }
}

export function record(
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
export function outcomeName(
  d: StageWorkerDeps,
  claim: Claim,
  outcome: Outcome,
): "done" | "skipped" | "retry" | "failed" {
  if (outcome.kind !== "error") return outcome.kind;
  return outcome.permanent || claim.attempts > d.stage.retries ? "failed" : "retry";
}
