/** `jobctl reprocess`: reset a stage (or stale results) and every later stage, or estimate it. */
import type { Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { printJson, requireJob, requireStage } from "./_ops.ts";
import { loadRuntime, openStore } from "./_runtime.ts";
import { plural, usd } from "../util/format.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { configuredVersions } from "../runner/versions.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  stale: { type: "boolean" },
  stage: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** What `jobctl reprocess --help` prints. */
export const HELP = `Usage: jobctl reprocess -j JOB (--stale | --stage S) [--dry-run] [--json]

Resets stages to pending so the next run does them again, together with every later
stage of the same items.
  -j, --job JOB  the job (required)
  --stale        items whose result came from an older handler version, from that stage
  --stage S      every item that went through stage S (with --stale: only stale results of S)
  --dry-run      change nothing; print how many items and the estimated cost: the number
                 of items times each stage's cost per item in its latest pass (its cost
                 events since the job's last reprocess)
  --json         print { jobId, dryRun, items, fromStage, stages, estimatedUsd } as JSON

${COMMON_HELP}`;

/** What a reprocess resets, with the cost estimate of running it again. */
interface Plan {
  jobId: string;
  dryRun: boolean;
  items: number;
  /** The first stage reset; null when nothing is stale. */
  fromStage: string | null;
  /** The stages that run again, with their average cost per item. */
  stages: { stage: string; usdPerItem: number }[];
  estimatedUsd: number;
}

/** Runs `jobctl reprocess`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("reprocess", args, OPTIONS);
  if (!values.stale && values.stage === undefined) {
    throw new UsageError(
      "jobctl reprocess needs --stale or --stage S: jobctl reprocess -j JOB --stale",
    );
  }
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "reprocess", values.job);
  const stage = values.stage === undefined ? undefined : requireStage(job, values.stage);
  const dryRun = values["dry-run"] ?? false;
  const db = await openStore(dbPath);
  try {
    // As `jobctl run` would record them: a version bumped since the last run counts now.
    const versions = values.stale ? await configuredVersions(job) : {};
    // Before resetting: a reset result is no longer stale.
    const fromStage = stage ?? await firstStaleStage(db, job, versions);
    const options = { jobId: job.id, stage, dryRun, versions };
    const items = values.stale
      ? await db.reprocessStale(options)
      : await db.reprocessStage({ ...options, stage: stage! });
    const plan = await estimate(db, job, { dryRun, items, fromStage });
    if (values.json) printJson(plan);
    else console.log(describe(plan, values.stale ?? false));
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** The earliest stage of the job with stale results, or null. */
async function firstStaleStage(
  db: Store,
  job: JobConfig,
  versions: Record<string, string | null>,
): Promise<string | null> {
  const stale = await db.getStaleCount({ jobId: job.id, versions });
  return job.stages.find((s) => (stale[s.name] ?? 0) > 0)?.name ?? null;
}

/**
 * Items × the summed cost per item (in the latest pass) of `fromStage` and every later stage.
 * With --stale, items whose first stale stage comes later cost less: the figure is an upper
 * bound.
 */
async function estimate(
  db: Store,
  job: JobConfig,
  reset: { dryRun: boolean; items: number; fromStage: string | null },
): Promise<Plan> {
  const stages = job.stages.map((s) => s.name);
  const costs = new Map(
    (await db.getCostPerItem({ jobId: job.id, stages })).map((c) => [c.stage, c]),
  );
  const from = job.stages.findIndex((s) => s.name === reset.fromStage);
  const again = (from < 0 ? [] : stages.slice(from)).map((stage) => ({
    stage,
    usdPerItem: costs.get(stage)?.usdPerItem ?? 0,
  }));
  const perItem = again.reduce((sum, s) => sum + s.usdPerItem, 0);
  return { jobId: job.id, ...reset, stages: again, estimatedUsd: perItem * reset.items };
}

function describe(plan: Plan, stale: boolean): string {
  if (plan.items === 0) {
    const what = stale ? "have stale results" : `have run stage ${plan.fromStage}`;
    return `No items of ${plan.jobId} ${what}: nothing to reprocess`;
  }
  const items = plural(plan.items, "item");
  const stages = plan.stages.map((s) => s.stage).join(", ");
  if (!plan.dryRun) {
    return `Reset ${items} of ${plan.jobId} from stage ${plan.fromStage} (${stages}); ` +
      "the next run processes them";
  }
  const perStage = plan.stages.map((s) => `${s.stage} ${usd(s.usdPerItem)}`).join(", ");
  const perItem = plan.stages.reduce((sum, s) => sum + s.usdPerItem, 0);
  return `Would reset ${items} of ${plan.jobId} from stage ${plan.fromStage} (${stages})\n` +
    `Estimated cost: ${usd(plan.estimatedUsd)} = ${items} × ${usd(perItem)} per item ` +
    `(${perStage})${stale ? "; at most, as some items are stale only at a later stage" : ""}`;
}
