/** Loading handlers: module, command and builtin, behind one calling convention. */
import { pathToFileURL } from "node:url";
import type { StageConfig } from "../config/types.ts";
import { ConfigError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { builtinFetch } from "./builtin_fetch.ts";
import { runCommand } from "./command_handler.ts";
import type { RunMode } from "./context.ts";
import type { PacedFetch } from "./paced_fetch.ts";

/** The item as a handler sees it. */
export interface HandlerItem {
  key: string;
  data: Record<string, unknown>;
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
  /** Results of the item's earlier stages, by stage name. */
  results: Record<string, unknown>;
  job: string;
  stage: string;
  mode: RunMode;
  /** 1 on the first attempt. */
  attempt: number;
}

/** A loaded handler. */
export interface Handler {
  /** HANDLER_VERSION of a module or the stage's `version:`; null when neither is given. */
  version: string | null;
  run(item: HandlerItem, ctx: HandlerContext): Promise<unknown>;
}

type ModuleHandler = (item: HandlerItem, ctx: HandlerContext) => unknown;

/** Loads the handler of `stage`; a module is imported once. `cwd` is the jobs.yaml folder. */
export async function loadHandler(stage: StageConfig, cwd: string): Promise<Handler> {
  const spec = stage.handler;
  switch (spec.kind) {
    case "module":
      return await loadModule(spec.path, stage);
    case "command":
      return {
        version: stage.version ?? null,
        run: (item, ctx) =>
          runCommand(spec.argv, {
            item,
            results: ctx.results,
            context: { job: ctx.job, stage: ctx.stage, mode: ctx.mode, attempt: ctx.attempt },
          }, { signal: ctx.signal, cwd }),
      };
    case "builtin":
      return {
        version: stage.version ?? `builtin:${spec.name}`,
        run: (item, ctx) => builtinFetch(item, ctx, spec.options),
      };
  }
}

async function loadModule(path: string, stage: StageConfig): Promise<Handler> {
  let mod: { default?: unknown; HANDLER_VERSION?: unknown };
  try {
    // A compiled jobctl imports a module from disk only by its real absolute path.
    mod = await import(pathToFileURL(await Deno.realPath(path)).href);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? `Module not found "${path}"`
      : (err as Error).message;
    throw new ConfigError([`Cannot load handler "${path}" of stage "${stage.name}": ${reason}`]);
  }
  if (typeof mod.default !== "function") {
    throw new ConfigError([
      `Handler "${path}" of stage "${stage.name}" has no default export function`,
    ]);
  }
  const fn = mod.default as ModuleHandler;
  const declared = mod.HANDLER_VERSION;
  return {
    version: stage.version ?? (declared === undefined ? null : String(declared)),
    run: async (item, ctx) => await fn(item, ctx),
  };
}
