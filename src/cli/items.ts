/** `jobs items`: a job's items with their status and stages, filtered. */

import type { DerivedStatus, ItemListing } from "../db/store.ts";
import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { openForReading, printJson, requireJob, requireStage } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { clip, count, renderTable } from "./_table.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  status: { type: "string" },
  stage: { type: "string" },
  error: { type: "string" },
  limit: { type: "string" },
} as const;

const HELP = `Usage: jobs items -j JOB [--status S] [--stage S] [--error TEXT] [--limit N] [--json]

Lists a job's items in discovery order with their status and each stage's status.
  --status S     pending, in_progress, done or failed (the item's derived status)
  --stage S      items waiting at stage S (their first stage not done or skipped)
  --error TEXT   items with a stage error containing TEXT
  --limit N      at most N items (default 50)
  --json         print the items as JSON`;

const STATUSES: readonly DerivedStatus[] = ["pending", "in_progress", "done", "failed"];
const DEFAULT_LIMIT = 50;
const ERROR_CHARS = 60;

/** Runs `jobs items`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("items", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const status = parseStatus(values.status);
  const limit = parsePositiveInt("--limit", values.limit) ?? DEFAULT_LIMIT;
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "items", values.job);
  const stage = values.stage === undefined ? undefined : requireStage(job, values.stage);
  const db = await openForReading(dbPath);
  try {
    const items = await db.listItems({
      jobId: job.id,
      status,
      stage,
      error: values.error,
      limit,
    });
    if (values.json) printJson(items);
    else print(items, job.stages.map((s) => s.name), limit);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

function parseStatus(value: string | undefined): DerivedStatus | undefined {
  if (value === undefined) return undefined;
  if (!(STATUSES as readonly string[]).includes(value)) {
    throw new UsageError(`--status expects one of ${STATUSES.join(", ")}, got "${value}"`);
  }
  return value as DerivedStatus;
}

function print(items: ItemListing[], stages: string[], limit: number): void {
  if (items.length === 0) {
    console.log("No items match");
    return;
  }
  const rows = items.map((item) => {
    const byStage = new Map(item.stages.map((s) => [s.stage, s]));
    const cells = stages.map((name) => {
      const s = byStage.get(name);
      if (!s) return "-";
      return s.attempts > 1 ? `${s.status} ×${s.attempts}` : s.status;
    });
    const error = item.stages.find((s) => s.status === "failed")?.error ??
      item.stages.find((s) => s.error !== null)?.error ?? "";
    return [item.key, item.status, ...cells, clip(error, ERROR_CHARS)];
  });
  console.log(renderTable(["key", "status", ...stages, "error"], rows));
  const more = items.length === limit ? `; more may match (--limit ${limit})` : "";
  console.log(`\n${count(items.length)} item${items.length === 1 ? "" : "s"}${more}`);
}
