import { retryAfterMs } from "../util/retry_after.ts";
/**
 * What a source says about when to fetch it again — HTTP Retry-After, Cache-Control max-age,
 * Expires; RSS ttl, skipHours, skipDays — as plain values returned with the discovery result.
 */

/** One thing a source said about its next fetch. */
export interface RefetchRule {
  rule: "retry-after" | "max-age" | "expires" | "ttl" | "skip-hours" | "skip-days";
  /** The header or element value as the source wrote it. */
  value: string;
  /** Earliest time (ms since epoch) this rule allows the next fetch. */
  notBefore: number;
}

/** When one URL should be fetched again, and why. */
export interface RefetchHint {
  /** The URL as requested (before redirects). */
  url: string;
  /** Earliest next fetch (ms since epoch): the latest rule, moved out of skipped hours and days. */
  notBefore: number;
  rules: RefetchRule[];
  /** RSS skipHours: hours (0–23, UTC) in which the source asks not to be read. */
  skipHours?: number[];
  /** RSS skipDays: days (0 = Sunday … 6, UTC) on which the source asks not to be read. */
  skipDays?: number[];
}

/** A feed's own schedule: RSS `<ttl>`, `<skipHours>` and `<skipDays>`. */
export interface FeedSchedule {
  ttl?: string;
  skipHours?: number[];
  skipDays?: number[];
}

const HOUR_MS = 3_600_000;

/** The rules in an HTTP response's headers; Retry-After counts only on 429 and 503. */
export function httpRules(headers: Headers, status: number, now: number): RefetchRule[] {
  const rules: RefetchRule[] = [];
  const retryAfter = headers.get("retry-after");
  const wait = retryAfter === null ? undefined : retryAfterMs(retryAfter, now);
  if ((status === 429 || status === 503) && wait !== undefined) {
    rules.push({ rule: "retry-after", value: retryAfter!, notBefore: now + wait });
  }
  const cacheControl = headers.get("cache-control") ?? "";
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl)) return rules;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl)?.[1];
  if (maxAge !== undefined) {
    const age = Number(headers.get("age") ?? 0) || 0;
    const fresh = Math.max(0, Number(maxAge) - age) * 1000;
    rules.push({ rule: "max-age", value: cacheControl.trim(), notBefore: now + fresh });
    return rules;
  }
  const expires = headers.get("expires");
  const at = expires === null ? NaN : Date.parse(expires);
  if (!Number.isNaN(at)) {
    // Expires is in the server's clock: its distance from the server's Date is what counts.
    const served = Date.parse(headers.get("date") ?? "");
    const fresh = at - (Number.isNaN(served) ? now : served);
    if (fresh > 0) rules.push({ rule: "expires", value: expires!, notBefore: now + fresh });
  }
  return rules;
}

/** The rule of an RSS channel's ttl (minutes to cache the feed), when it has a valid one. */
export function ttlRules(schedule: FeedSchedule, now: number): RefetchRule[] {
  const ttl = schedule.ttl?.trim() ?? "";
  const minutes = Number(ttl);
  if (ttl === "" || !Number.isFinite(minutes) || minutes <= 0) return [];
  return [{ rule: "ttl", value: ttl, notBefore: now + minutes * 60_000 }];
}

/** Options of `refetchHint()`. */
export interface RefetchHintOptions {
  now: number;
  /** The skipHours and skipDays of the feed read from the URL, if any. */
  schedule?: FeedSchedule;
}

/** The hint for `url` from its rules and feed schedule; undefined when the source said nothing. */
export function refetchHint(
  url: string,
  rules: RefetchRule[],
  { now, schedule = {} }: RefetchHintOptions,
): RefetchHint | undefined {
  const skipHours = schedule.skipHours ?? [];
  const skipDays = schedule.skipDays ?? [];
  if (rules.length === 0 && skipHours.length === 0 && skipDays.length === 0) return undefined;
  const base = Math.max(now, ...rules.map((r) => r.notBefore));
  const notBefore = outsideSkips(base, skipHours, skipDays);
  const all = [...rules];
  if (skipHours.length) all.push({ rule: "skip-hours", value: skipHours.join(","), notBefore });
  if (skipDays.length) all.push({ rule: "skip-days", value: skipDays.join(","), notBefore });
  const hint: RefetchHint = { url, notBefore, rules: all };
  if (skipHours.length) hint.skipHours = skipHours;
  if (skipDays.length) hint.skipDays = skipDays;
  return hint;
}

/** The first time at or after `time` outside the skipped UTC hours and days (itself if none). */
export function outsideSkips(time: number, skipHours: number[], skipDays: number[]): number {
  let t = time;
  // A week of hours covers every combination; a source that skips them all is not moved.
  for (let step = 0; step < 7 * 24; step++) {
    const date = new Date(t);
    if (!skipHours.includes(date.getUTCHours()) && !skipDays.includes(date.getUTCDay())) return t;
    t = (Math.floor(t / HOUR_MS) + 1) * HOUR_MS;
  }
  return time;
}

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** The day number (0 = Sunday) of an RSS `<day>` value; undefined when it names no day. */
export function dayNumber(name: string): number | undefined {
  const index = DAYS.indexOf(name.trim().toLowerCase());
  return index < 0 ? undefined : index;
}
