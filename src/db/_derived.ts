/** The methods every store has whatever its engine, written once over the engine's own. */
import { clusterFailures } from "./clusters.ts";
import type { DerivedStore, EngineStore, Store } from "./store.ts";
import { StoreError } from "../util/errors.ts";
import { usd } from "../util/format.ts";

/** `engine` with the engine-neutral methods added. */
export function withDerived(engine: EngineStore): Store {
  const derived: DerivedStore = {
    pauseJob: (jobId, reason = "paused by operator") =>
      engine.setJobPaused({ jobId, paused: true, reason }),
    unpauseJob: (jobId, reason) => engine.setJobPaused({ jobId, paused: false, reason }),
    logCost: (cost) =>
      engine.logEvent({
        ts: cost.ts,
        jobId: cost.jobId,
        itemId: cost.itemId,
        stage: cost.stage,
        kind: "cost",
        message: usd(cost.usd),
        data: cost.meta,
        costUsd: cost.usd,
      }),
    failureClusters: async (options) =>
      clusterFailures(
        await engine.failedRows(options),
        options,
        (itemIds) => engine.getItemKeys({ itemIds }),
      ),
    copyTo: async (target, options = {}) => {
      if (!options.replace && !await target.isStoreEmpty()) {
        throw new StoreError(
          `Database "${target.location}" is not empty: copying into it would mix two histories`,
          { problem: "not-empty" },
        );
      }
      return target.importRows(engine.exportRows(options.batchSize));
    },
  };
  return { ...engine, ...derived };
}
