/** `jobctl item`: one item in full — stages, attempts, errors, results and events. */
import type { ItemDetail, ItemRef, Store } from "../db/store.ts";
import { hashUrl } from "../discovery/base.ts";

import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { openForReading, printJson, requireJob } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { errorGist, eventMessage } from "../util/format.ts";
import { clip, renderTable, time } from "./_table.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
} as const;

/** What `jobctl item --help` prints. */
export const HELP = `Usage: jobctl item -j JOB KEY|URL [--json]

Shows one item: its data, each stage's status, attempts, crashes, times and error, the stored
results and its latest events. A URL finds the item whose key is the URL's hash, or
whose data.url is that URL.
  -j, --job JOB   the job (required)
  --json          print the item as JSON

${COMMON_HELP}`;

const RESULT_CHARS = 400;
const ERROR_CHARS = 120;

/** Runs `jobctl item`; returns the exit code (1 when the job has no such item). */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("item", args, OPTIONS, true);
  if (positionals.length !== 1) {
    throw new UsageError(
      "jobctl item needs exactly one item key or URL: jobctl item -j JOB KEY|URL",
    );
  }
  const [wanted] = positionals;
  const { config, dbPath } = await loadRuntime(values, configPath);
  const job = requireJob(config, "item", values.job);
  const db = await openForReading(dbPath);
  try {
    const ref = await resolve(db, job.id, wanted);
    const detail = ref && await db.getItemDetail({ jobId: job.id, key: ref.key });
    if (!detail) {
      console.error(`No item "${wanted}" in job "${job.id}"`);
      return EXIT.failed;
    }
    if (values.json) printJson(detail);
    else print(detail);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** A key as given; a URL by its hash (the key discovery gives it), else by data.url. */
async function resolve(db: Store, jobId: string, wanted: string): Promise<ItemRef | undefined> {
  const exact = await db.findItem({ jobId, key: wanted });
  if (exact || !/^https?:\/\//i.test(wanted)) return exact;
  return await db.findItem({ jobId, key: hashUrl(wanted) }) ??
    await db.findItemByUrl({ jobId, url: wanted });
}

function print(item: ItemDetail): void {
  const lines = [
    `${item.jobId} / ${item.key}: ${item.status}`,
    `  discovered ${time(item.discoveredAt)}, updated ${time(item.updatedAt)}`,
    ...item.parent ? [`  emitted by ${item.parent.jobId} / ${item.parent.key}`] : [],
    `  data ${clip(JSON.stringify(item.data), RESULT_CHARS)}`,
    "",
    renderTable(
      ["stage", "status", "attempts", "crashes", "started", "finished", "error"],
      item.stages.map((s) => [
        s.stage,
        s.status,
        s.attempts,
        s.crashes,
        s.startedAt === null ? "-" : time(s.startedAt),
        s.finishedAt === null ? "-" : time(s.finishedAt),
        errorGist(s.error ?? "", ERROR_CHARS),
      ]),
      "  ",
    ),
  ];
  lines.push("", item.results.length ? "  results:" : "  results: none");
  for (const r of item.results) {
    lines.push(
      `    ${r.stage} (version ${r.handlerVersion ?? "-"}, ${time(r.createdAt)}): ` +
        clip(JSON.stringify(r.result), RESULT_CHARS),
    );
  }
  lines.push("", item.events.length ? "  events, newest first:" : "  events: none");
  for (const e of item.events) {
    lines.push(`    ${time(e.ts)}  ${e.kind}${e.stage ? ` ${e.stage}` : ""}: ${eventMessage(e)}`);
  }
  console.log(lines.join("\n"));
}
