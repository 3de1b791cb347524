/** The zod schema of jobs.yaml (snake_case, as written) and its normalisation into Config. */
import { z } from "zod";
import { strategyNames, strategySchema } from "../discovery/mod.ts";
import {
  count,
  cron,
  didYouMean,
  dropUndefined,
  duration,
  isRecord,
  parseWith,
  rate,
  rejectUnknownKeys,
  strict,
  unknownKeyMessage,
} from "./_fields.ts";
import { type ConfigIssue, flattenIssues, issueMessage } from "./_issues.ts";
import { describeValue } from "../util/quote.ts";
import { type StageDraft, stageSchemas } from "./_stages.ts";
import type { Config, DiscoveryConfig, JobConfig, StageConfig } from "./types.ts";
import type { Rate } from "../util/units.ts";
import { MIN_LEASE_MS, MIN_TIMEOUT_MS, parseDuration } from "../util/units.ts";
import { resolveStoreLocation } from "../db/location.ts";
import {
  type NotifyDraft,
  notifySchema,
  pingSchema,
  resolveNotify,
  resolveRetention,
  RETENTION_DEFAULTS,
  type RetentionDraft,
  retentionSchema,
} from "./_ops.ts";

export { BUILTIN_HANDLERS } from "./_stages.ts";

/** Where the file is, for resolving the relative paths it contains. */
export interface ConfigSource {
  /** Absolute path of the jobs.yaml file. */
  file: string;
  /** Absolute path of its folder. */
  dir: string;
}

/** The outcome of validating a jobs.yaml document: the Config, or every problem found. */
export type ParseResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

const JOB_ID = /^[a-z0-9_-]+$/;

interface StageDefaults {
  concurrency?: number;
  timeout?: number;
  retries?: number;
  backoff?: number;
  domain_rate?: Rate;
}

type JobDraft = Omit<JobConfig, "id" | "stages" | "retention" | "notify"> & {
  stages: StageDraft[];
  retention?: RetentionDraft;
  notify?: NotifyDraft;
};

/** Validates the JavaScript value of a jobs.yaml document and normalises it into a Config. */
export function parseConfig(raw: unknown, source: ConfigSource): ParseResult {
  const result = configSchema(source, declaredResources(raw)).safeParse(raw, {
    error: issueMessage,
  });
  return result.success
    ? { ok: true, config: result.data }
    : { ok: false, issues: flattenIssues(result.error.issues) };
}

/** Resource names under `resources:`, read before validation so `uses` can be checked per entry. */
function declaredResources(raw: unknown): string[] {
  const resources = isRecord(raw) ? raw.resources : undefined;
  return isRecord(resources) ? Object.keys(resources) : [];
}

function configSchema(source: ConfigSource, resources: string[]): z.ZodType<Config, unknown> {
  const defaults = strict({
    concurrency: count(1).optional(),
    timeout: duration(MIN_TIMEOUT_MS).optional(),
    retries: count(0).optional(),
    backoff: duration().optional(),
    domain_rate: rate().optional(),
  });
  const runner = strict({
    lease: duration(MIN_LEASE_MS).optional(),
    shutdown_grace: duration().optional(),
    ping: pingSchema().optional(),
  });
  const resource = strict({ concurrency: count(1).optional(), rate: rate().optional() })
    .refine((r) => r.concurrency !== undefined || r.rate !== undefined, {
      error: 'expected "concurrency", "rate" or both',
    });
  // Ids are checked beside the jobs, not as record keys, so a bad id hides no problem of its job.
  const jobs = z.record(z.string(), jobSchema(source, resources))
    .superRefine(checkJobIds, { when: always });
  return strict({
    db: z.string().min(1).optional(),
    runner: runner.optional(),
    defaults: defaults.optional(),
    resources: z.record(z.string().min(1), resource).optional(),
    retention: retentionSchema(true).optional(),
    notify: notifySchema(source.dir).optional(),
    jobs,
  }).transform((value): Config => normalise(value, source));
}

type ConfigDraft = {
  db?: string;
  runner?: { lease?: number; shutdown_grace?: number; ping?: Config["runner"]["ping"] };
  defaults?: StageDefaults;
  resources?: Record<string, { concurrency?: number; rate?: Rate }>;
  retention?: RetentionDraft;
  notify?: NotifyDraft;
  jobs: Record<string, JobDraft>;
};

function normalise(value: ConfigDraft, source: ConfigSource): Config {
  const retention = resolveRetention(value.retention, RETENTION_DEFAULTS);
  const notify = resolveNotify(value.notify);
  return {
    file: source.file,
    dir: source.dir,
    db: resolveStoreLocation(value.db ?? "jobs.sqlite", source.dir),
    runner: dropUndefined({
      leaseMs: value.runner?.lease ?? 5 * 60_000,
      shutdownGraceMs: value.runner?.shutdown_grace ?? 30_000,
      ping: value.runner?.ping,
    }),
    resources: Object.fromEntries(
      Object.entries(value.resources ?? {}).map((
        [name, r],
      ) => [name, { name, ...dropUndefined(r) }]),
    ),
    retention,
    notify,
    jobs: Object.entries(value.jobs).map(([id, job]) => ({
      id,
      ...job,
      stages: job.stages.map((stage) => withDefaults(stage, value.defaults ?? {})),
      retention: resolveRetention(job.retention, retention),
      notify: resolveNotify(job.notify, notify),
    })),
  };
}

function withDefaults(stage: StageDraft, defaults: StageDefaults): StageConfig {
  return dropUndefined({
    ...stage,
    concurrency: stage.concurrency ?? defaults.concurrency ?? 4,
    timeoutMs: stage.timeoutMs ?? defaults.timeout ?? 5 * 60_000,
    retries: stage.retries ?? defaults.retries ?? 3,
    backoffMs: stage.backoffMs ?? defaults.backoff ?? 30_000,
    domainRate: stage.domainRate ?? defaults.domain_rate,
  });
}

function jobSchema(source: ConfigSource, resources: string[]): z.ZodType<JobDraft, unknown> {
  const stages = stageSchemas({ dir: source.dir, resources });
  return strict({
    description: z.string().optional(),
    discovery: discoverySchema(),
    schedule: cron().optional(),
    budget: strict({ daily_usd: z.number().positive() }).optional(),
    pause_after_failures: count(1).optional(),
    retention: retentionSchema(false).optional(),
    notify: notifySchema(source.dir).optional(),
    ping: pingSchema().optional(),
    expect_new_within: duration().optional(),
    stages: stages.list.optional(),
    handler: stages.single.optional(),
  }).superRefine(checkStagesOrHandler, { when: always }).transform((job): JobDraft =>
    dropUndefined({
      description: job.description,
      discovery: job.discovery,
      stages: job.stages ?? (job.handler ? [job.handler] : []),
      schedule: job.schedule,
      budget: job.budget && { dailyUsd: job.budget.daily_usd },
      pauseAfterFailures: job.pause_after_failures,
      retention: job.retention,
      notify: job.notify,
      ping: job.ping,
      expectNewWithinMs: job.expect_new_within,
    })
  );
}

const always = (): boolean => true;

/** At least one job, and every job id is lower-case letters, digits, "_" and "-". */
function checkJobIds(jobs: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isRecord(jobs)) return;
  const ids = Object.keys(jobs);
  if (ids.length === 0) ctx.addIssue({ code: "custom", message: "expected at least one job" });
  for (const id of ids.filter((id) => !JOB_ID.test(id))) {
    ctx.addIssue({
      code: "custom",
      path: [id],
      params: { atKey: true },
      message: `invalid job id ${describeValue(id)}: use lower-case letters, digits, "_" and "-"`,
    });
  }
}

/** A job has `stages:` or a single `handler:`, never both. */
function checkStagesOrHandler(job: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isRecord(job)) return;
  if (job.stages !== undefined && job.handler !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["handler"],
      message: 'use either "handler" or "stages", not both',
    });
  } else if (job.stages === undefined && job.handler === undefined) {
    ctx.addIssue({
      code: "custom",
      message: 'missing "stages" (a list) or "handler" (a single stage)',
    });
  }
}

/** `strategy:` picks the strategy; its own schema validates the rest, `every` included. */
function discoverySchema(): z.ZodType<DiscoveryConfig, unknown> {
  return z.unknown().transform((value, ctx) => {
    const head = parseWith(value, z.looseObject({ strategy: z.string() }), ctx);
    if (head === z.NEVER) {
      // Without a strategy its keys are unknown, but a misspelt "strategy" can be named.
      if (isRecord(value)) reportMisspeltStrategy(value, ctx);
      return z.NEVER;
    }
    const { strategy: name, ...rest } = head as Record<string, unknown> & { strategy: string };
    const known = strategyNames();
    if (!known.includes(name)) {
      ctx.issues.push({
        code: "custom",
        path: ["strategy"],
        input: name,
        message: `unknown discovery strategy ${describeValue(name)}${
          didYouMean(name, known)
        }; known: ${known.join(", ")}`,
      });
      return z.NEVER;
    }
    const parsed = parseWith(rest, withKeySuggestions(strategySchema(name)), ctx);
    if (parsed === z.NEVER) return z.NEVER;
    const { every: _every, ...options } = parsed as Record<string, unknown>;
    return dropUndefined({
      strategy: name,
      everyMs: rest.every === undefined ? undefined : parseDuration(rest.every as string),
      options,
    });
  });
}

/** `stratgy: rss` beside a missing strategy: an unknown key suggesting "strategy". */
function reportMisspeltStrategy(value: Record<string, unknown>, ctx: z.core.$RefinementCtx): void {
  if ("strategy" in value) return;
  for (const key of Object.keys(value)) {
    if (didYouMean(key, ["strategy"]) === "") continue;
    ctx.issues.push({
      code: "custom",
      path: [key],
      input: undefined,
      params: { atKey: true },
      message: unknownKeyMessage(key, ["strategy"]),
    });
  }
}

/** The strategy's schema, with unknown top-level keys reported one by one with a suggestion. */
function withKeySuggestions(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodObject ? rejectUnknownKeys(schema, ["strategy"]) : schema;
}
