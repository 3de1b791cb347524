/** `jobs costs`: what each job and stage cost per UTC day. */

import type { CostRow } from "../db/store.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { openForReading, printJson, requireJob } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { renderTable, usd } from "./_table.ts";
import { EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  days: { type: "string" },
} as const;

const HELP = `Usage: jobs costs [-j JOB] [--days 30] [--json]

Cost recorded by handlers (ctx.cost) per UTC day, job and stage, newest day first.
  -j, --job JOB   only this job
  --days N        today and the N-1 days before (default 30)
  --json          print { days, totalUsd, rows } as JSON`;

const DEFAULT_DAYS = 30;

/** Runs `jobs costs`; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("costs", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const days = parsePositiveInt("--days", values.days) ?? DEFAULT_DAYS;
  const { config, dbPath } = await loadRuntime(values, configPath);
  const jobId = values.job === undefined ? undefined : requireJob(config, "costs", values.job).id;
  const db = await openForReading(dbPath);
  try {
    const rows = await db.getCostsByDay({ jobId, days });
    const totalUsd = rows.reduce((sum, r) => sum + r.usd, 0);
    if (values.json) printJson({ days, totalUsd, rows });
    else print(rows, days, totalUsd);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

function print(rows: CostRow[], days: number, totalUsd: number): void {
  const span = days === 1 ? "today (UTC)" : `in the last ${days} days (UTC)`;
  if (rows.length === 0) {
    console.log(`No costs recorded ${span}`);
    return;
  }
  console.log(renderTable(
    ["day", "job", "stage", "cost", "events"],
    rows.map((r) => [r.day, r.jobId, r.stage ?? "-", usd(r.usd), r.events]),
  ));
  console.log(`\n${usd(totalUsd)} ${span}`);
}
