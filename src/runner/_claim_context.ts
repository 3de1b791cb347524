/**
 * The ctx a handler gets. A class whose signal, log, fetch and cost are made on first use: most
 * handlers use few of them, and a fresh object of closures per claim is garbage at thousands of
 * claims per second. Getters keep `const { log, cost } = ctx` working.
 */

import type { Claim } from "../db/store.ts";
import type { Logger } from "../util/log.ts";
import type { RunMode } from "./context.ts";
import type { HandlerContext } from "./handlers.ts";
import { SkipSignal, toEmittedItems } from "./outcome.ts";
import type { EmittedItems } from "../db/store.ts";
import { PermanentError } from "../util/errors.ts";
import { quote } from "../util/quote.ts";
import { createPacedFetch, type PacedFetch } from "./paced_fetch.ts";
import type { StageWorkerDeps } from "./stage_worker.ts";
import type { ClaimAbort } from "./_claim_aborts.ts";

/** The context of one claim's handler. */
export class ClaimContext implements HandlerContext {
  readonly results: Record<string, unknown>;
  readonly job: string;
  readonly stage: string;
  readonly mode: RunMode;
  readonly attempt: number;
  readonly #deps: StageWorkerDeps;
  readonly #claim: Claim;
  readonly #abort: ClaimAbort;
  /** Cost records still being written; the outcome waits for them. */
  readonly #costs: Promise<unknown>[];
  #log: Logger | undefined;
  #fetch: PacedFetch | undefined;
  #cost: HandlerContext["cost"] | undefined;
  /** The last cost write of this item, which the next one waits for. */
  #lastCost: Promise<unknown> = Promise.resolve();
  /** What the handler emitted, in order; recorded with the stage when it ends done. */
  readonly emitted: EmittedItems[] = [];

  constructor(
    deps: StageWorkerDeps,
    claim: Claim,
    abort: ClaimAbort,
    costs: Promise<unknown>[],
  ) {
    this.#abort = abort;
    this.#deps = deps;
    this.#claim = claim;
    this.#costs = costs;
    this.results = claim.results;
    this.job = deps.job.id;
    this.stage = deps.stage.name;
    this.mode = deps.ctx.mode;
    this.attempt = claim.attempts;
  }

  /** Aborts at the stage's timeout or the end of the shutdown grace. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Log lines tagged with the job, stage and item. */
  get log(): Logger {
    if (this.#log) return this.#log;
    const log = this.#deps.ctx.log;
    const where = { job: this.job, stage: this.stage, item: this.#claim.key };
    return this.#log = {
      info: (m, data) => log.info(m, { ...where, ...data }),
      warn: (m, data) => log.warn(m, { ...where, ...data }),
      error: (m, data) => log.error(m, { ...where, ...data }),
    };
  }

  /** fetch paced per domain. */
  get fetch(): PacedFetch {
    return this.#fetch ??= createPacedFetch(
      this.#deps.pacer,
      this.#deps.stage.domainRate,
      this.signal,
    );
  }

  /** Records money spent on this item. */
  get cost(): HandlerContext["cost"] {
    return this.#cost ??= (usd, meta) => {
      const deps = this.#deps;
      deps.budget.add(usd);
      const cost = { jobId: this.job, itemId: this.#claim.itemId, stage: this.stage, usd, meta };
      const ts = deps.ctx.now();
      // One after another, so the item's cost events keep the order they were reported in.
      const write = this.#lastCost.catch(() => {}).then(() => deps.ctx.db.logCost({ ...cost, ts }));
      this.#lastCost = write;
      this.#costs.push(write);
    };
  }

  /** Ends this stage as skipped. */
  skip(reason: string): never {
    throw new SkipSignal(reason);
  }

  /** Adds items to a job of jobs.yaml when this stage ends done. */
  emit(jobId: string, items: unknown): void {
    const where = `Stage "${this.stage}" of item ${quote(this.#claim.key)} emitted to job ${
      quote(String(jobId))
    }`;
    const stages = this.#deps.jobStages.get(jobId);
    if (!stages) {
      const known = [...this.#deps.jobStages.keys()].join(", ");
      throw new PermanentError(`${where}: there is no such job in jobs.yaml (jobs: ${known})`);
    }
    this.emitted.push({ jobId, stages, items: toEmittedItems(items, where) });
  }
}
