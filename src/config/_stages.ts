/** Stage entries of jobs.yaml (`stages:` items or a single `handler:`) and their handlers. */
import { basename, extname, resolve } from "node:path";
import { z } from "zod";
import {
  count,
  didYouMean,
  dropUndefined,
  duration,
  isRecord,
  label,
  parseWith,
  rate,
  strict,
} from "./_fields.ts";
import { describeValue } from "../util/quote.ts";
import type { HandlerSpec, StageConfig } from "./types.ts";
import { MIN_TIMEOUT_MS, type Rate } from "../util/units.ts";

/** Handlers shipped in the program, used as `handler: builtin:NAME`. */
export const BUILTIN_HANDLERS = ["fetch"] as const;

const BUILTIN_PREFIX = "builtin:";
const always = (): boolean => true;

/** A stage as written, before `defaults:` and the built-in defaults are applied. */
export type StageDraft =
  & Omit<StageConfig, "concurrency" | "timeoutMs" | "retries" | "backoffMs">
  & { concurrency?: number; timeoutMs?: number; retries?: number; backoffMs?: number };

/** What stage schemas need to know: the jobs.yaml folder and the declared resource names. */
export interface StageContext {
  dir: string;
  resources: string[];
}

interface StageFields {
  name?: string;
  handler?: string;
  command?: string[];
  worker?: true | { max_items?: number };
  options?: Record<string, unknown>;
  concurrency?: number;
  timeout?: number;
  retries?: number;
  backoff?: number;
  uses?: string[];
  version?: string;
  domain_rate?: Rate;
  batch?: { size: number; wait: number };
}

/** Schemas of a `stages:` list and of a single `handler:` (a string or a stage mapping). */
export function stageSchemas(
  context: StageContext,
): { list: z.ZodType<StageDraft[], unknown>; single: z.ZodType<StageDraft, unknown> } {
  const handler = handlerRef();
  const fields = {
    handler: handler.optional(),
    command: z.array(z.string().min(1)).min(1).optional(),
    worker: workerField().optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    concurrency: count(1).optional(),
    timeout: duration(MIN_TIMEOUT_MS).optional(),
    retries: count(0).optional(),
    backoff: duration().optional(),
    uses: z.array(resourceRef(context.resources)).optional(),
    version: label().optional(),
    domain_rate: rate().optional(),
    batch: strict({ size: count(1), wait: duration() }).optional(),
  };
  const toDraft = (stage: StageFields): StageDraft => stageDraft(stage, context.dir);
  const listed = strict({ name: z.string().min(1).optional(), ...fields })
    .superRefine(checkHandler, { when: always })
    .transform(toDraft);
  const mapping = strict(fields).superRefine(checkHandler, { when: always }).transform(toDraft);
  const list = z.unknown().transform((value, ctx) => {
    const stages = parseWith(value, z.array(listed).min(1), ctx);
    // On the entries as written, so a name clash is found even when an entry has other problems.
    if (Array.isArray(value)) checkUniqueNames(value, ctx);
    return stages;
  });
  const single = z.unknown().transform((value, ctx) =>
    typeof value === "string"
      ? parseWith(value, handler.transform((h) => toDraft({ handler: h })), ctx)
      : parseWith(value, mapping, ctx)
  );
  return { list, single };
}

function handlerRef(): z.ZodType<string, unknown> {
  return z.string().min(1).superRefine((handler, ctx) => {
    if (!handler.startsWith(BUILTIN_PREFIX)) return;
    const name = handler.slice(BUILTIN_PREFIX.length);
    if ((BUILTIN_HANDLERS as readonly string[]).includes(name)) return;
    ctx.addIssue({
      code: "custom",
      message: `unknown builtin handler ${describeValue(name)}${
        didYouMean(name, BUILTIN_HANDLERS)
      }; known: ${BUILTIN_HANDLERS.join(", ")}`,
    });
  });
}

/** `worker: true`, or a mapping of worker settings. */
function workerField(): z.ZodType<true | { max_items?: number }, unknown> {
  const settings = strict({ max_items: count(1).optional() });
  return z.unknown().transform((value, ctx) => {
    if (value === true) return true;
    if (isRecord(value)) return parseWith(value, settings, ctx);
    ctx.addIssue({
      code: "custom",
      message: `expected true or a mapping such as { max_items: 1000 }, got ${
        describeValue(value)
      }`,
    });
    return z.NEVER;
  });
}

function resourceRef(resources: string[]): z.ZodType<string, unknown> {
  return z.string().superRefine((name, ctx) => {
    if (resources.includes(name)) return;
    const declared = resources.length ? ` (declared: ${resources.join(", ")})` : "";
    ctx.addIssue({
      code: "custom",
      message: `resource ${describeValue(name)} is not declared under "resources"${declared}`,
    });
  });
}

/** Exactly one of handler and command; worker only with command; options only for a builtin. */
function checkHandler(stage: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isRecord(stage)) return;
  const issue = (message: string, path: string[] = []): void =>
    ctx.addIssue({ code: "custom", path, message });
  if (stage.handler !== undefined && stage.command !== undefined) {
    issue('use either "handler" or "command", not both', ["command"]);
  } else if (stage.handler === undefined && stage.command === undefined) {
    issue('missing "handler" (a module or builtin:NAME) or "command" (a list)');
  }
  if (stage.worker !== undefined && stage.command === undefined) {
    issue('"worker" is only for a "command" stage', ["worker"]);
  }
  const builtin = typeof stage.handler === "string" && stage.handler.startsWith(BUILTIN_PREFIX);
  if (stage.options !== undefined && !builtin) {
    issue('"options" is only for builtin handlers', ["options"]);
  }
  if (stage.batch !== undefined && builtin) {
    issue('"batch" is only for module and command handlers', ["batch"]);
  }
}

/** Reports a stage whose name, given or derived from its handler, an earlier stage already has. */
function checkUniqueNames(stages: unknown[], ctx: z.core.$RefinementCtx): void {
  const seen = new Map<string, number>();
  stages.forEach((stage, index) => {
    const name = isRecord(stage) ? stageName(stage) : undefined;
    if (name === undefined) return;
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
      return;
    }
    const given = isRecord(stage) && stage.name !== undefined;
    ctx.issues.push({
      code: "custom",
      input: stage,
      path: given ? [index, "name"] : [index],
      message: `duplicate stage name ${describeValue(name)} (also stages[${first}]); ` +
        'give one a distinct "name"',
    });
  });
}

/** The stage's name: as given, else the builtin name, module basename or program basename. */
function stageName(stage: Record<string, unknown>): string | undefined {
  if (typeof stage.name === "string") return stage.name;
  if (typeof stage.handler === "string") {
    return stage.handler.startsWith(BUILTIN_PREFIX)
      ? stage.handler.slice(BUILTIN_PREFIX.length)
      : basename(stage.handler, extname(stage.handler));
  }
  const program = Array.isArray(stage.command) ? stage.command[0] : undefined;
  return typeof program === "string" ? basename(program) : undefined;
}

function stageDraft(stage: StageFields, dir: string): StageDraft {
  return dropUndefined({
    name: stageName(stage as Record<string, unknown>) ?? "",
    handler: handlerSpec(stage, dir),
    concurrency: stage.concurrency,
    timeoutMs: stage.timeout,
    retries: stage.retries,
    backoffMs: stage.backoff,
    uses: stage.uses ?? [],
    version: stage.version,
    domainRate: stage.domain_rate,
    batch: stage.batch && { size: stage.batch.size, waitMs: stage.batch.wait },
  });
}

function handlerSpec(stage: StageFields, dir: string): HandlerSpec {
  if (stage.command) {
    const [program, ...args] = stage.command;
    const argv = [programPath(program, dir), ...args];
    if (!stage.worker) return { kind: "command", argv };
    const maxItems = stage.worker === true ? undefined : stage.worker.max_items;
    return { kind: "command", argv, worker: dropUndefined({ maxItems }) };
  }
  const handler = stage.handler ?? "";
  return isBuiltin(handler)
    ? { kind: "builtin", name: handler.slice(BUILTIN_PREFIX.length), options: stage.options ?? {} }
    : { kind: "module", path: resolve(dir, handler) };
}

/** Whether a `handler:` value names a builtin handler (`builtin:fetch`) rather than a module. */
export function isBuiltin(handler: string): boolean {
  return handler.startsWith(BUILTIN_PREFIX);
}

/** A command's program as it is started: with a "/", relative to `dir`; else looked up on PATH. */
export function programPath(program: string, dir: string): string {
  return program.includes("/") ? resolve(dir, program) : program;
}
