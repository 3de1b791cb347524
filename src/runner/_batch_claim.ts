/**
 * One call of a `batch:` stage's handler on several claims, and the outcomes it returns, one per
 * item by key. A throw (or a timeout, or a result that is not an object) is every item's outcome.
 */
import type { Claim } from "../db/store.ts";
import type { BatchContext, BatchHandler, BatchItem } from "./handlers.ts";
import type { StageWorkerDeps } from "./stage_worker.ts";
import type { ClaimAbort, ClaimAborts } from "./_claim_aborts.ts";
import { ClaimContext } from "./_claim_context.ts";
import { gaveUp, noteStarted, outcomeName, record, StrayRoute } from "./_claim_outcome.ts";
import { startBatchSpan } from "./tracing.ts";
import { classifyError, type Outcome, takeEmitField, toStoredResult } from "./outcome.ts";
import { runCaught } from "./handler_guard.ts";
import { outcomeProblem, type WorkerFinal } from "./worker_protocol.ts";
import { formatDuration } from "../util/units.ts";
import { PermanentError, StoreError } from "../util/errors.ts";
import { quote } from "../util/quote.ts";

/** Runs the batch handler on `claims` and records an outcome for each. */
export async function runBatch(
  d: StageWorkerDeps,
  handler: BatchHandler,
  aborts: ClaimAborts,
  claims: Claim[],
): Promise<void> {
  const live = claims.filter((claim) => !gaveUp(d, claim));
  if (!live.length) return;
  const started = d.ctx.now();
  const { batch, spans } = batchSpans(d, handler, live);
  const costs: Promise<unknown>[] = [];
  let contexts: ClaimContext[] = [];
  let abort: ClaimAbort | undefined;
  let release: (() => void) | undefined;
  let ended: (() => void) | undefined;
  let route: StrayRoute | undefined;
  let outcomes: Outcome[];
  try {
    if (d.stage.uses.length) release = await d.resources.acquire(d.stage.uses, d.hardSignal);
    await noteStarted(d, live);
    ended = d.ctx.activity?.handlerStarted(d.job.id, d.stage.name);
    const value = await aborts.run((a) => {
      abort = a;
      contexts = live.map((claim) => new ClaimContext(d, claim, a, costs));
      const items = live.map(batchItem);
      const ctx = batchContext(d, a.signal, contexts);
      route = new StrayRoute(d, aborts, a, live[0]);
      const call = () => handler.runBatch(items, ctx);
      return runCaught(route.catch, () => batch ? batch.run(call) : call());
    });
    outcomes = batchOutcomes(value, live, contexts, d);
    batch?.end("done");
  } catch (err) {
    // Noting the start failed: as a failure to record an outcome, it stops the worker.
    if (err instanceof StoreError) throw err;
    if (d.hardSignal.aborted) {
      for (const span of [...spans, batch]) span?.end("released");
      if (costs.length) await Promise.all(costs);
      await d.ctx.db.releaseClaims({ runId: d.ctx.runId, items: live });
      return;
    }
    const timedOut = abort?.timedOut
      ? `Timed out after ${formatDuration(d.stage.timeoutMs)}`
      : undefined;
    outcomes = live.map(() => classifyError(err, timedOut));
    batch?.end("failed", outcomes[0].kind === "error" ? outcomes[0].message : undefined);
  } finally {
    route?.ended();
    ended?.();
    release?.();
  }
  if (costs.length) await Promise.all(costs);
  const durationMs = d.ctx.now() - started;
  live.forEach((claim, i) => {
    const outcome = outcomes[i];
    record(d, claim, outcome, durationMs, contexts[i]?.emitted);
    const error = outcome.kind === "error" ? outcome.message : undefined;
    spans[i]?.end(outcomeName(d, claim, outcome), error);
  });
  if (outcomes.some((o) => o.kind === "error")) await d.writer.flush();
}

/** The span of the call, and one per item's attempt under it, as for one-item handlers. */
function batchSpans(d: StageWorkerDeps, handler: BatchHandler, live: Claim[]) {
  const where = { job: d.job.id, stage: d.stage.name, handlerVersion: handler.version };
  const batch = startBatchSpan({ ...where, size: live.length });
  const spans = live.map((claim) =>
    batch?.attempt({ ...where, key: claim.key, attempt: claim.attempts })
  );
  return { batch, spans };
}

function batchItem(claim: Claim): BatchItem {
  return { key: claim.key, data: claim.data, results: claim.results, attempt: claim.attempts };
}

/** The batch's ctx: a cost is split evenly over the items, each share recorded with its item. */
function batchContext(
  d: StageWorkerDeps,
  signal: AbortSignal,
  contexts: ClaimContext[],
): BatchContext {
  const log = d.ctx.log;
  const where = { job: d.job.id, stage: d.stage.name };
  return {
    signal,
    log: {
      info: (m, data) => log.info(m, { ...where, ...data }),
      warn: (m, data) => log.warn(m, { ...where, ...data }),
      error: (m, data) => log.error(m, { ...where, ...data }),
    },
    cost: (usd, meta) => {
      for (const ctx of contexts) ctx.cost(usd / contexts.length, meta);
    },
    fetch: contexts[0].fetch,
    job: d.job.id,
    stage: d.stage.name,
    mode: d.ctx.mode,
  };
}

/**
 * The outcome of each claim from what the handler returned: an object mapping item keys to
 * outcomes as worker messages have them (`{ kind: "result", result }`, `{ kind: "skip", reason }`,
 * `{ kind: "fail" | "error", message }`, `{ kind: "retry_later", message, after_ms? }`). A
 * claim without one fails that attempt; keys not in the batch are logged and ignored.
 */
function batchOutcomes(
  value: unknown,
  claims: Claim[],
  contexts: ClaimContext[],
  d: StageWorkerDeps,
): Outcome[] {
  const stage = `Stage "${d.stage.name}"`;
  if (!isRecord(value)) {
    throw new PermanentError(
      `${stage}: the batch handler returned ${describe(value)}, not an object of outcomes ` +
        `keyed by item key`,
    );
  }
  const keys = new Set(claims.map((c) => c.key));
  const unknown = Object.keys(value).filter((key) => !keys.has(key)).map((k) => quote(k));
  if (unknown.length) {
    d.ctx.log.warn(
      `${stage}: the batch handler returned outcomes for keys not in the batch, ignored: ` +
        unknown.join(", "),
      { job: d.job.id, stage: d.stage.name },
    );
  }
  return claims.map((claim, i) => {
    const where = `${stage} of item ${quote(claim.key)}`;
    if (!Object.hasOwn(value, claim.key)) {
      const also = unknown.length
        ? ` (it returned keys not in the batch: ${unknown.join(", ")})`
        : "";
      return {
        kind: "error",
        message: `${where}: the batch handler returned no outcome for this item${also}`,
        permanent: false,
      };
    }
    return itemOutcome(value[claim.key], where, contexts[i]);
  });
}

function itemOutcome(value: unknown, where: string, ctx: ClaimContext): Outcome {
  const problem = isRecord(value) ? outcomeProblem(value) : `that is ${describe(value)}`;
  if (problem) {
    const shown = JSON.stringify(value) ?? String(value);
    return {
      kind: "error",
      message: `${where}: the batch handler returned an outcome ${problem}: ${shown}`,
      permanent: true,
    };
  }
  const final = value as unknown as WorkerFinal;
  switch (final.kind) {
    case "result":
      try {
        const result = takeEmitField(
          final.result,
          where,
          (jobId, records) => ctx.emit(jobId, records),
        );
        return toStoredResult(result);
      } catch (err) {
        return classifyError(err, undefined);
      }
    case "skip":
      return { kind: "skipped", reason: final.reason };
    case "fail":
      return { kind: "error", message: final.message, permanent: true };
    case "error":
      return { kind: "error", message: final.message, permanent: false };
    case "retry_later": {
      const after = final.after_ms === undefined ? undefined : Math.ceil(final.after_ms);
      return { kind: "error", message: final.message, permanent: false, retryAfterMs: after };
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
