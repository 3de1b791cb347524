/**
 * Command and worker handlers of `batch:` stages: one process (or one worker request) per
 * batch, with `{ items, context }` as input and an object of outcomes keyed by item key back.
 */
import type { BatchContext, BatchHandler, BatchItem } from "./handlers.ts";
import { type BatchInput, runCommand } from "./command_handler.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** A command stage with `batch:`: run once per batch, or sent to `pool` when it is a worker. */
export function batchCommand(
  argv: string[],
  version: string | null,
  options: { cwd: string; pool: WorkerPool | undefined },
): BatchHandler {
  const { cwd, pool } = options;
  if (!pool) {
    return {
      version,
      runBatch: (items, ctx) =>
        runCommand(argv, batchInput(items, ctx), { signal: ctx.signal, cwd }),
    };
  }
  return {
    version,
    runBatch: (items, ctx) =>
      pool.run({
        request: batchInput(items, ctx),
        signal: ctx.signal,
        log: ctx.log,
        cost: ctx.cost,
      }),
    close: () => pool.close(),
  };
}

function batchInput(items: BatchItem[], ctx: BatchContext): BatchInput {
  return { items, context: { job: ctx.job, stage: ctx.stage, mode: ctx.mode } };
}
