/**
 * The one boundary of both engines: every store method returns a Promise, and every driver
 * error leaves it as a StoreError that says what could not be done.
 */
import type { EngineStore, Impl } from "./store.ts";

/** Turns an error of `action` into the error callers see (a StoreError for driver errors). */
export type ErrorMapper = (err: unknown, action: string) => unknown;

type Method = Exclude<keyof EngineStore, "location">;

/** What each method does, in words, for "Cannot <action>: …" messages. */
const ACTIONS: Record<Method, string> = {
  syncStages: "update the job's stages",
  upsertItems: "record discovered items",
  listItems: "list items",
  findKnownKeys: "look up known items",
  retryFailed: "retry failed stages",
  claimBatch: "claim work",
  markDone: "record finished stages",
  markSkipped: "record skipped stages",
  markFailed: "record failed attempts",
  registerRun: "register the run",
  finishRun: "record the end of the run",
  detectCrashedRuns: "look for crashed runs",
  renewLeases: "renew leases",
  releaseClaims: "release claims",
  markStarted: "record started claims",
  reconcileExpiredLeases: "release expired claims",
  heldClaims: "read held claims",
  getJobState: "read the job's state",
  setJobPaused: "change the job's pause",
  wakeJob: "wake the job",
  acquireDiscoveryLease: "start discovery",
  deadDiscoveryLeases: "read discovery leases",
  releaseDeadDiscoveryLeases: "release discovery leases",
  finishDiscovery: "finish discovery",
  markJobRun: "record the job's run",
  logEvent: "record an event",
  getEvents: "read events",
  getEventsAfter: "read events",
  getDailyCost: "read costs",
  getCostsByDay: "read costs",
  getCostPerItem: "read costs",
  setHandlerVersion: "record the handler version",
  getStaleCount: "count stale results",
  reprocessStale: "reset stale results",
  reprocessStage: "reset the stage",
  getDoneResults: "read results",
  failedRows: "read failures",
  integrityProblems: "check the database",
  walSize: "read the write-ahead log's size",
  checkpointWal: "checkpoint the write-ahead log",
  leaseProblems: "check leases",
  stuckBehindFailures: "count items behind failures",
  stageRowGaps: "compare stage rows with the config",
  addMissingStageRows: "add missing stage rows",
  getHttpCache: "read the HTTP cache",
  putHttpCache: "write the HTTP cache",
  sourceHolds: "read source holds",
  saveSourceHolds: "write source holds",
  findItem: "find the item",
  findItemByUrl: "find the item",
  getItemKeys: "read item keys",
  getItemDetail: "read the item",
  stageStats: "count stages",
  getJobStats: "count items",
  throughput: "count finished stages",
  hourlyRuns: "count runs per hour",
  recentStageTimings: "read stage timings",
  costPerDay: "read costs",
  prune: "prune old rows",
  reclaimSpace: "reclaim free space",
  pendingAlerts: "read the alert outbox",
  alertCooldowns: "read alert cooldowns",
  settleAlerts: "record sent alerts",
  jobMetrics: "read metrics",
  isStoreEmpty: "check whether the store is empty",
  exportRows: "read the store's rows",
  importRows: "write rows into the store",
  close: "close the store",
};

/** `engine` with every method guarded: a sync throw or a rejection goes through `mapError`. */
export function guardStore(engine: Impl<EngineStore>, mapError: ErrorMapper): EngineStore {
  const guarded: Record<string, unknown> = { location: engine.location };
  const methods = engine as unknown as Record<Method, (...args: unknown[]) => unknown>;
  for (const [name, action] of Object.entries(ACTIONS) as [Method, string][]) {
    const method = methods[name];
    guarded[name] = name === "exportRows"
      ? (...args: unknown[]) =>
        guardRows(method(...args) as AsyncGenerator<unknown>, mapError, action)
      : async (...args: unknown[]) => {
        try {
          return await method(...args);
        } catch (err) {
          throw mapError(err, action);
        }
      };
  }
  return guarded as unknown as EngineStore;
}

async function* guardRows<T>(
  rows: AsyncGenerator<T>,
  mapError: ErrorMapper,
  action: string,
): AsyncGenerator<T> {
  try {
    yield* rows;
  } catch (err) {
    throw mapError(err, action);
  }
}
