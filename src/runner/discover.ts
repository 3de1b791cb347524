/** The discovery step of a run: when it is due, who runs it, and what it records. */
import type { HttpCacheEntry, UpsertCounts } from "../db/store.ts";
import type { JobConfig, RunnerConfig } from "../config/types.ts";

import {
  type DiscoveredItem,
  type DiscoveredItems,
  DiscoveryError,
  hashUrl,
} from "../discovery/base.ts";
import type { HeldSource } from "../discovery/_holds.ts";
import { readsUrls, runDiscovery } from "../discovery/mod.ts";
import { SourceGate } from "../discovery/_holds.ts";
import { heldMessage } from "../discovery/_tally.ts";
import { describeError, UsageError } from "../util/errors.ts";
import type { RunContext } from "./context.ts";
import { traceDiscovery } from "./tracing.ts";

/** What the discovery step did. */
export interface DiscoveryReport {
  /** False when it was not due or another process was discovering. */
  ran: boolean;
  /** Why it did not run, or ran with nothing to parse. */
  note?: string;
  found: number;
  counts?: UpsertCounts;
  error?: string;
}

/** How often --watch discovers over HTTP when the job has no `every` (a feed, an API). */
export const WATCH_HTTP_EVERY_MS = 15 * 60_000;

/**
 * The least time between two discoveries of `job`: its `every`; without one, in --watch, 15
 * minutes for discovery over HTTP (so a feed is not fetched at every poll); else undefined,
 * which means at every run (and at every poll of --watch).
 */
export function discoveryEveryMs(
  job: JobConfig,
  ctx: Pick<RunContext, "singlePass">,
): number | undefined {
  if (job.discovery.everyMs !== undefined) return job.discovery.everyMs;
  return !ctx.singlePass && readsUrls(job.discovery) ? WATCH_HTTP_EVERY_MS : undefined;
}

/** Runs the job's discovery when due (production), or for the test / dry-run modes. */
export async function discoverStep(
  job: JobConfig,
  runner: Pick<RunnerConfig, "leaseMs"> & { configDir: string },
  ctx: RunContext,
): Promise<DiscoveryReport> {
  const { configDir } = runner;
  if (ctx.mode !== "production") return await discoverOnce(job, configDir, ctx);
  if (!await discoveryDue(job, ctx)) return { ran: false, note: "not due", found: 0 };
  const owner = ctx.runId;
  if (
    !await ctx.db.acquireDiscoveryLease({
      jobId: job.id,
      owner,
      // The heartbeat renews it while the discovery runs.
      leaseMs: runner.leaseMs,
      now: ctx.now,
    })
  ) {
    return { ran: false, note: "another process is discovering", found: 0 };
  }
  let report: DiscoveryReport = { ran: false, note: "not due", found: 0 };
  try {
    // Another process may have finished a discovery between the first check and the lease.
    if (await discoveryDue(job, ctx)) {
      report = { ran: true, found: 0, error: "interrupted" };
      report = await traceDiscovery(
        job.id,
        () => discoverOnce(job, configDir, ctx),
        (r) => ({ found: r.found, added: r.counts?.inserted, error: r.error }),
      );
    }
  } finally {
    await ctx.db.finishDiscovery({
      jobId: job.id,
      owner,
      succeeded: report.ran && !report.error,
      error: report.error,
      newItems: report.counts?.inserted,
      alertAfterFailures: job.notify.discoveryFailures,
      expectNewWithinMs: job.expectNewWithinMs,
      now: ctx.now,
    });
  }
  return report;
}

/** Whether `every` has passed since the last discovery, or the job was woken. */
async function discoveryDue(job: JobConfig, ctx: RunContext): Promise<boolean> {
  const state = await ctx.db.getJobState(job.id);
  const woken = state.wakeRequestedAt !== null &&
    (state.lastDiscoveryAt === null || state.wakeRequestedAt >= state.lastDiscoveryAt);
  const everyMs = discoveryEveryMs(job, ctx);
  return woken || state.lastDiscoveryAt === null || everyMs === undefined ||
    ctx.now() - state.lastDiscoveryAt >= everyMs;
}

async function discoverOnce(
  job: JobConfig,
  configDir: string,
  ctx: RunContext,
): Promise<DiscoveryReport> {
  let items: DiscoveredItems;
  let notModified: boolean;
  let warnings: string[];
  let validators: HttpCacheEntry[];
  // Only real runs leave held sources alone and learn from failures; test and dry runs read all.
  const gate = ctx.mode === "production"
    ? new SourceGate(await ctx.db.sourceHolds(), job.id, ctx.now)
    : undefined;
  try {
    ({ items, notModified, warnings, validators } = await runDiscovery(job, {
      db: ctx.db,
      configDir,
      signal: ctx.signal,
      log: ctx.log,
      now: ctx.now,
      useHttpCache: ctx.mode === "production",
      gate,
    }));
  } catch (err) {
    if (gate) await ctx.db.saveSourceHolds(gate.changes());
    if (err instanceof DiscoveryError && err.held) return heldReport(err.held);
    const error = describeError(err);
    ctx.log.error(`Discovery failed: ${error}`, { job: job.id });
    if (ctx.mode !== "dry_run") {
      await ctx.db.logEvent({
        jobId: job.id,
        kind: "discovery_error",
        message: error,
        ts: ctx.now(),
      });
    }
    return { ran: true, found: 0, error };
  }
  if (gate) {
    await ctx.db.saveSourceHolds(gate.changes());
    if (gate.onlyHeld()) return heldReport(gate.refused[0]);
  }
  if (ctx.mode !== "dry_run") await recordWarnings(job.id, warnings, ctx);
  if (ctx.mode === "test") items = pickTestItems(items, ctx);
  if (ctx.mode === "dry_run") {
    const keys = Array.from(items, (i) => i.key);
    const known = await ctx.db.findKnownKeys({ jobId: job.id, keys });
    const fresh = keys.filter((key) => !known.has(key)).length;
    return {
      ran: true,
      found: items.length,
      counts: { inserted: fresh, updated: 0, unchanged: items.length - fresh },
    };
  }
  const counts = await ctx.db.upsertItems({
    jobId: job.id,
    stages: job.stages.map((s) => s.name),
    items,
    unique: true,
    now: ctx.now,
  });
  for (const entry of validators) await ctx.db.putHttpCache(entry);
  const message = notModified
    ? "not modified since the last discovery"
    : `found ${items.length}: ${counts.inserted} new, ${counts.updated} updated, ${counts.unchanged} unchanged`;
  await ctx.db.logEvent({
    jobId: job.id,
    kind: "discovery",
    message,
    data: { ...counts },
    ts: ctx.now(),
  });
  return { ran: true, found: items.length, counts, note: notModified ? "not modified" : undefined };
}

/** A discovery that read nothing: every source it tried is held (not a failure, not a run). */
function heldReport(held: HeldSource): DiscoveryReport {
  return { ran: false, found: 0, note: heldMessage(held) };
}

/** One `discovery_warning` event per problem the discovery read past (already logged). */
async function recordWarnings(jobId: string, warnings: string[], ctx: RunContext): Promise<void> {
  for (const warning of warnings) {
    await ctx.db.logEvent({ jobId, kind: "discovery_warning", message: warning, ts: ctx.now() });
  }
}

/** Test mode: the one item asked for (by key or URL), else the first `limit` (default 3). */
function pickTestItems(items: DiscoveredItems, ctx: RunContext): DiscoveredItem[] {
  const wanted = ctx.testItem;
  if (wanted === undefined) return firstItems(items, ctx.limit ?? 3);
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(wanted);
  const hashed = isUrl ? hashUrl(wanted) : undefined;
  for (const item of items) {
    if (item.key === wanted || item.key === hashed || item.data.url === wanted) return [item];
  }
  if (isUrl) return [{ key: hashed!, data: { url: wanted } }];
  throw new UsageError(`Item "${wanted}" was not found by discovery`);
}

function firstItems(items: Iterable<DiscoveredItem>, limit: number): DiscoveredItem[] {
  const first: DiscoveredItem[] = [];
  for (const item of items) {
    if (first.length === limit) break;
    first.push(item);
  }
  return first;
}
