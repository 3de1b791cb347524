/** Row mappers both engines share: the rows agree column for column (JSON kept as text). */
import type {
  EventFilter,
  EventRow,
  HeldClaims,
  HttpCacheEntry,
  ResultRow,
  SourceHold,
} from "./store.ts";

/** A row of events. */
export interface EventDbRow {
  id: number;
  ts: number;
  job_id: string | null;
  item_id: number | null;
  stage: string | null;
  kind: string;
  message: string;
  data: string | null;
  cost_usd: number | null;
}

/** An event as callers see it. */
export function toEvent(r: EventDbRow): EventRow {
  return {
    id: r.id,
    ts: r.ts,
    jobId: r.job_id,
    itemId: r.item_id,
    stage: r.stage,
    kind: r.kind,
    message: r.message,
    data: r.data ? JSON.parse(r.data) : null,
    costUsd: r.cost_usd,
  };
}

/** A row of results. */
export interface ResultDbRow {
  item_id: number;
  stage: string;
  handler_version: string | null;
  result: string;
  created_at: number;
}

/** A stored result as callers see it. */
export function toResult(r: ResultDbRow): ResultRow {
  return {
    itemId: r.item_id,
    stage: r.stage,
    handlerVersion: r.handler_version,
    result: JSON.parse(r.result),
    createdAt: r.created_at,
  };
}

/** A row of http_cache. */
export interface HttpCacheDbRow {
  job_id: string;
  url: string;
  options_hash: string;
  etag: string | null;
  last_modified: string | null;
  checked_at: number;
}

/** A URL's validators as callers see them. */
export function toHttpCacheEntry(r: HttpCacheDbRow): HttpCacheEntry {
  return {
    jobId: r.job_id,
    url: r.url,
    optionsHash: r.options_hash,
    etag: r.etag ?? undefined,
    lastModified: r.last_modified ?? undefined,
    checkedAt: r.checked_at,
  };
}

/** A row of source_holds. */
export interface SourceHoldDbRow {
  scope: "url" | "host";
  target: string;
  host: string;
  job_id: string;
  failures: number;
  until_at: number;
  reason: string;
  error: string | null;
  skip_hours: string;
  skip_days: string;
  updated_at: number;
}

/** A source hold as callers see it. */
export function toSourceHold(r: SourceHoldDbRow): SourceHold {
  const numbers = (text: string) => text === "" ? [] : text.split(",").map(Number);
  return {
    scope: r.scope,
    target: r.target,
    host: r.host,
    jobId: r.job_id,
    failures: r.failures,
    untilAt: r.until_at,
    reason: r.reason,
    error: r.error,
    skipHours: numbers(r.skip_hours),
    skipDays: numbers(r.skip_days),
    updatedAt: r.updated_at,
  };
}

/** The columns of a source hold, in the order of TRANSFER_COLUMNS.source_holds. */
export function sourceHoldValues(h: SourceHold): (string | number | null)[] {
  return [
    h.scope,
    h.target,
    h.host,
    h.jobId,
    h.failures,
    h.untilAt,
    h.reason,
    h.error,
    h.skipHours.join(","),
    h.skipDays.join(","),
    h.updatedAt,
  ];
}

/** A row of the held-claims query: one run's claims at one stage. */
export interface HeldClaimsDbRow {
  stage: string;
  run_id: string;
  host: string | null;
  pid: number | null;
  claims: number;
  oldest: number | null;
}

/** One run's held claims as callers see them. */
export function toHeldClaims(r: HeldClaimsDbRow): HeldClaims {
  return {
    stage: r.stage,
    runId: r.run_id,
    host: r.host,
    pid: r.pid,
    claims: r.claims,
    oldestStartedAt: r.oldest,
  };
}

/** The kinds an event filter asks for, without repeats; undefined for every kind. */
export function kindsOf(filter: EventFilter): string[] | undefined {
  if (filter.kind === undefined) return undefined;
  return [...new Set(typeof filter.kind === "string" ? [filter.kind] : filter.kind)];
}

/** Cost events of a stage that getCostPerItem() reads at most, newest first. */
export const LATEST_COSTS = 10_000;
