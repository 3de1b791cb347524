/** `jobctl events`: the event log, filtered; --follow keeps printing new events until interrupted. */

import type { EventFilter, EventRow, Store } from "../db/store.ts";
import { UsageError } from "../util/errors.ts";
import { configPath, parseCommandArgs, parsePositiveInt } from "./_args.ts";
import { openForReading, parseDurationFlag, requireJob } from "./_ops.ts";
import { loadRuntime } from "./_runtime.ts";
import { eventMessage } from "../util/format.ts";
import { time } from "./_table.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { sleep } from "../util/time.ts";

const OPTIONS = {
  job: { type: "string", short: "j" },
  item: { type: "string" },
  kind: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  follow: { type: "boolean", short: "f" },
} as const;

/** What `jobctl events --help` prints. */
export const HELP =
  `Usage: jobctl events [-j JOB] [--item KEY] [--kind K] [--since 1h] [--limit N] [--follow]

Prints the latest events, oldest first: discoveries, failures and automatic retries,
skips, costs, pauses, wakes, manual retries (retry_failed) and reprocessing.
  -j, --job JOB   only this job (default every job)
  --item KEY      only this item (needs -j)
  --kind K        only this kind (default every kind), e.g. failed, retry, skipped, cost, pause, discovery
  --since 1h      only events of the last 1h (any duration: 30m, 2d)
  --limit N       at most the latest N (default 100)
  -f, --follow    keep printing new events until Ctrl-C
  --json          a JSON array; with --follow one JSON object per line

${COMMON_HELP}`;

const DEFAULT_LIMIT = 100;
const POLL_MS = 500;
/** Most events printed per poll while following; more wait for the next poll. */
const FOLLOW_PAGE = 1000;

/** An event as printed, with its item's key. */
type PrintedEvent = EventRow & { itemKey: string | null };

/** Runs `jobctl events`; returns the exit code (1 when --item names no item of the job). */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("events", args, OPTIONS);
  if (values.item !== undefined && values.job === undefined) {
    throw new UsageError("--item needs a job: jobctl events -j JOB --item KEY");
  }
  const limit = parsePositiveInt("--limit", values.limit) ?? DEFAULT_LIMIT;
  const sinceMs = values.since === undefined
    ? undefined
    : parseDurationFlag("--since", values.since);
  const { config, dbPath } = await loadRuntime(values, configPath);
  const jobId = values.job === undefined ? undefined : requireJob(config, "events", values.job).id;
  const db = await openForReading(dbPath);
  try {
    const filter: EventFilter = { jobId, kind: values.kind, limit };
    if (values.item !== undefined) {
      const item = await db.findItem({ jobId: jobId!, key: values.item });
      if (!item) {
        console.error(`No item "${values.item}" in job "${jobId}"`);
        return EXIT.failed;
      }
      filter.itemId = item.id;
    }
    if (sinceMs !== undefined) filter.sinceTs = Date.now() - sinceMs;
    const json = values.json ?? false;
    const newest = (await db.getEvents({ limit: 1 }))[0]?.id ?? 0;
    const backlog = (await withKeys(db, await db.getEvents(filter))).reverse();
    if (json && !values.follow) console.log(JSON.stringify(backlog, null, 2));
    else backlog.forEach((e) => print(e, json));
    if (!values.follow) return EXIT.ok;
    await follow(db, filter, Math.max(newest, ...backlog.map((e) => e.id)), json);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/** Prints events newer than `afterId` as they are written, until SIGINT or SIGTERM. */
async function follow(
  db: Store,
  filter: EventFilter,
  afterId: number,
  json: boolean,
): Promise<void> {
  const stop = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.abort();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    let last = afterId;
    while (!stop.signal.aborted) {
      const page = await db.getEventsAfter({ ...filter, afterId: last, limit: FOLLOW_PAGE });
      for (const e of await withKeys(db, page)) print(e, json);
      if (page.length) last = page[page.length - 1].id;
      // A signal ends the wait early, and then the loop.
      if (page.length < FOLLOW_PAGE) await sleep(POLL_MS, stop.signal).catch(() => {});
    }
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

async function withKeys(db: Store, events: EventRow[]): Promise<PrintedEvent[]> {
  const ids = events.flatMap((e) => e.itemId === null ? [] : [e.itemId]);
  const keys = ids.length ? await db.getItemKeys({ itemIds: ids }) : new Map<number, string>();
  return events.map((e) => ({
    ...e,
    itemKey: e.itemId === null ? null : keys.get(e.itemId) ?? null,
  }));
}

function print(e: PrintedEvent, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(e));
    return;
  }
  const where = [e.stage, e.itemKey].filter((part) => part !== null).join("/") || "-";
  console.log(`${time(e.ts)}  ${e.jobId ?? "-"}  ${e.kind}  ${where}  ${oneLine(eventMessage(e))}`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
