/** Loading handlers: module, command and builtin, behind one calling convention. */
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StageConfig, WorkerConfig } from "../config/types.ts";
import { ConfigError, describeThrown } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { builtinFetch } from "./builtin_fetch.ts";
import { type CommandInput, runCommand } from "./command_handler.ts";
import { WorkerPool } from "./worker_pool.ts";
import { batchCommand } from "./batch_handlers.ts";
import type { RunMode } from "./context.ts";
import type { PacedFetch } from "./paced_fetch.ts";
import { takeEmitField } from "./outcome.ts";
import { quote } from "../util/quote.ts";

/** The item as a handler sees it. */
export interface HandlerItem {
  key: string;
  data: Record<string, unknown>;
}

/** An item a handler emits: a key or an http(s) URL (hashed into the key), and its data. */
export interface EmitRecord {
  key?: string | number;
  url?: string;
  data?: Record<string, unknown>;
}

/** The second argument of every handler. */
export interface HandlerContext {
  /** Aborts on timeout and on shutdown. */
  signal: AbortSignal;
  log: Logger;
  /** Records money spent on this item (counts toward the job's daily budget). */
  cost(usd: number, meta?: Record<string, unknown>): void;
  /** fetch paced per domain; slows down after 429 / Retry-After. */
  fetch: PacedFetch;
  /** Ends this stage as skipped; the next stage runs. */
  skip(reason: string): never;
  /**
   * Adds items (`{ key, data }` or `{ url, data }`) to the job `jobId` (this one or another),
   * recorded in the same transaction as this stage's done; nothing is added unless it ends done.
   */
  emit(jobId: string, items: readonly EmitRecord[]): void;
  /** Results of the item's earlier stages, by stage name. */
  results: Record<string, unknown>;
  job: string;
  stage: string;
  mode: RunMode;
  /** 1 on the first attempt. */
  attempt: number;
}

/** An item of a batch: what a one-item handler gets as its item and in its ctx. */
export interface BatchItem extends HandlerItem {
  /** Results of the item's earlier stages, by stage name. */
  results: Record<string, unknown>;
  /** 1 on the item's first attempt. */
  attempt: number;
}

/** The second argument of a batch handler: what concerns the whole batch. */
export interface BatchContext {
  /** Aborts on timeout and on shutdown. */
  signal: AbortSignal;
  log: Logger;
  /** Records money spent on the batch, split evenly over its items. */
  cost(usd: number, meta?: Record<string, unknown>): void;
  /** fetch paced per domain; slows down after 429 / Retry-After. */
  fetch: PacedFetch;
  job: string;
  stage: string;
  mode: RunMode;
}

interface HandlerBase {
  /** HANDLER_VERSION of a module or the stage's `version:`; null when neither is given. */
  version: string | null;
  /** Ends what the handler keeps running between items (worker processes); called once. */
  close?(): Promise<void>;
}

/** A loaded handler of one item at a time. */
export interface ItemHandler extends HandlerBase {
  run(item: HandlerItem, ctx: HandlerContext): Promise<unknown>;
}

/**
 * A loaded handler of a `batch:` stage. It resolves with an object mapping each item's key to
 * its outcome (read in _batch_claim.ts); a throw is the outcome of every item.
 */
export interface BatchHandler extends HandlerBase {
  runBatch(items: BatchItem[], ctx: BatchContext): Promise<unknown>;
}

/** A loaded handler. */
export type Handler = ItemHandler | BatchHandler;

/** Options of loadHandler(). */
export interface LoadHandlerOptions {
  /** Where worker processes report problems that concern no item. */
  log: Logger;
  /** Time a worker process gets to exit once its stdin is closed: `runner.shutdown_grace`. */
  closeGraceMs: number;
}

type ModuleHandler = (input: unknown, ctx: unknown) => unknown;

/**
 * Loads the handler of `stage`; a module is imported once. `cwd` is the jobs.yaml folder. A
 * module that cannot be imported is a ConfigError "FILE:LINE:COL: cannot load …", naming the
 * place of a syntax error or of the throw.
 */
export async function loadHandler(
  stage: StageConfig,
  cwd: string,
  options: LoadHandlerOptions,
): Promise<Handler> {
  const spec = stage.handler;
  switch (spec.kind) {
    case "module": {
      const { fn, version } = await loadModule(spec.path, stage);
      return stage.batch
        ? { version, runBatch: async (items, ctx) => await fn(items, ctx) }
        : { version, run: async (item, ctx) => await fn(item, ctx) };
    }
    case "command":
      if (stage.batch) {
        const pool = spec.worker
          ? workerPool(stage, spec.argv, spec.worker, { ...options, cwd })
          : undefined;
        return batchCommand(spec.argv, handlerVersion(stage), { cwd, pool });
      }
      return spec.worker ? workerHandler(stage, spec.argv, spec.worker, { ...options, cwd }) : {
        version: handlerVersion(stage),
        run: async (item, ctx) =>
          emitted(
            await runCommand(spec.argv, commandInput(item, ctx), { signal: ctx.signal, cwd }),
            item,
            ctx,
          ),
      };
    case "builtin":
      return {
        version: handlerVersion(stage),
        run: (item, ctx) => builtinFetch(item, ctx, spec.options),
      };
  }
}

function commandInput(item: HandlerItem, ctx: HandlerContext): CommandInput {
  return {
    item,
    results: ctx.results,
    context: { job: ctx.job, stage: ctx.stage, mode: ctx.mode, attempt: ctx.attempt },
  };
}

/** A command's or worker's result without its `emit` field, whose items go to ctx.emit(). */
function emitted(result: unknown, item: HandlerItem, ctx: HandlerContext): unknown {
  return takeEmitField(
    result,
    `Stage "${ctx.stage}" of item ${quote(item.key)}`,
    (jobId, records) => ctx.emit(jobId, records as EmitRecord[]),
  );
}

/** A `worker:` command stage: items go to long-lived processes over the worker protocol. */
function workerHandler(
  stage: StageConfig,
  argv: string[],
  worker: WorkerConfig,
  options: LoadHandlerOptions & { cwd: string },
): Handler {
  const pool = workerPool(stage, argv, worker, options);
  return {
    version: handlerVersion(stage),
    run: async (item, ctx) =>
      emitted(
        await pool.run({
          request: commandInput(item, ctx),
          signal: ctx.signal,
          log: ctx.log,
          cost: ctx.cost,
        }),
        item,
        ctx,
      ),
    close: () => pool.close(),
  };
}

function workerPool(
  stage: StageConfig,
  argv: string[],
  worker: WorkerConfig,
  options: LoadHandlerOptions & { cwd: string },
): WorkerPool {
  return new WorkerPool({
    argv,
    cwd: options.cwd,
    stage: stage.name,
    concurrency: stage.concurrency,
    maxItems: worker.maxItems,
    closeGraceMs: options.closeGraceMs,
    log: options.log,
  });
}

/**
 * The version of a stage's handler: its `version:`, else a builtin's name, else the
 * HANDLER_VERSION a module declares (`declared`, as a string), else null.
 */
export function handlerVersion(stage: StageConfig, declared: string | null = null): string | null {
  if (stage.version !== undefined) return stage.version;
  return stage.handler.kind === "builtin" ? `builtin:${stage.handler.name}` : declared;
}

async function loadModule(
  path: string,
  stage: StageConfig,
): Promise<{ fn: ModuleHandler; version: string | null }> {
  let mod: { default?: unknown; HANDLER_VERSION?: unknown };
  try {
    // A compiled jobctl imports a module from disk only by its real absolute path.
    mod = await import(pathToFileURL(await Deno.realPath(path)).href);
  } catch (err) {
    const where = errorLocation(err) ?? path;
    const reason = err instanceof Deno.errors.NotFound
      ? `Module not found "${path}"`
      : loadFailure(err);
    throw new ConfigError([
      `${where}: cannot load the handler of stage "${stage.name}": ${reason}`,
    ]);
  }
  if (typeof mod.default !== "function") {
    throw new ConfigError([
      `${path}: the handler of stage "${stage.name}" has no default export function`,
    ]);
  }
  const declared = mod.HANDLER_VERSION;
  return {
    fn: mod.default as ModuleHandler,
    version: handlerVersion(stage, declared === undefined ? null : String(declared)),
  };
}

/** This program's own source; a location inside it is not the handler's. */
const OWN_SOURCE = new URL("../", import.meta.url).href;
const LOCATION = /(file:\/\/[^\s()]+?):(\d+):(\d+)/g;
// deno-lint-ignore no-control-regex -- terminal colours in Deno's messages
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * "FILE:LINE:COL" of what a failed import names: the place in its message (syntax errors,
 * missing imports), else the frame that threw, unless it is this program's own code or a caller
 * waiting on the import ("at async").
 */
function errorLocation(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const frames = (err.stack ?? "").split("\n").filter((l) => /^\s+at (?!async )/.test(l));
  for (const text of [err.message, ...frames]) {
    for (const [, url, line, col] of text.replace(ANSI, "").matchAll(LOCATION)) {
      if (!url.startsWith(OWN_SOURCE)) return `${fileURLToPath(url)}:${line}:${col}`;
    }
  }
  return undefined;
}

/** The first line of why an import failed (Deno's syntax errors add a code excerpt below it). */
function loadFailure(err: unknown): string {
  if (!(err instanceof Error)) return describeThrown(err);
  const first = err.message.replace(ANSI, "").split("\n")[0].trim().replace(/\.$/, "");
  // Deno reports syntax errors as a TypeError whose message names the SyntaxError.
  return /^(\w*Error: |Module not found)/.test(first) ? first : `${err.name}: ${first}`;
}
