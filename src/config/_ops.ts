/** The operating settings of jobs.yaml: `retention:`, `notify:` and `ping:`, at both levels. */
import { resolve } from "node:path";
import { z } from "zod";
import { count, dropUndefined, duration, isRecord, parseWith, strict } from "./_fields.ts";
import { ALERT_KINDS } from "../db/ops_types.ts";
import type { NotifyConfig, NotifyTarget, PingConfig, RetentionConfig } from "./types.ts";
import { DAY_MS, HOUR_MS } from "../util/time.ts";
import { MIN_TIMEOUT_MS } from "../util/units.ts";
import { digest } from "../util/digest.ts";

/** Defaults of `retention:`. */
export const RETENTION_DEFAULTS: RetentionConfig = {
  eventsMs: 90 * DAY_MS,
  resultsMs: 30 * DAY_MS,
  httpCacheMs: 90 * DAY_MS,
};

/** Defaults of `notify:` without targets. */
const NOTIFY_DEFAULTS = { cooldownMs: HOUR_MS, discoveryFailures: 3 };
const TARGET_TIMEOUT_MS = 5000;

/** `retention:` as written at the top level (with http_cache) or in a job (without it). */
export function retentionSchema(top: boolean): z.ZodType<RetentionDraft, unknown> {
  const fields = { events: duration().optional(), results: duration().optional() };
  return top ? strict({ ...fields, http_cache: duration().optional() }) : strict(fields);
}

/** `retention:` as written. */
export type RetentionDraft = { events?: number; results?: number; http_cache?: number };

/** A `retention:` mapping over `base`. */
export function resolveRetention(
  draft: RetentionDraft | undefined,
  base: RetentionConfig,
): RetentionConfig {
  return {
    eventsMs: draft?.events ?? base.eventsMs,
    resultsMs: draft?.results ?? base.resultsMs,
    httpCacheMs: draft?.http_cache ?? base.httpCacheMs,
  };
}

/** `notify:`: targets, cooldown and the discovery failures that make an alert. */
export function notifySchema(dir: string): z.ZodType<NotifyDraft, unknown> {
  const events = z.array(z.enum(ALERT_KINDS)).min(1).optional();
  const common = { events, timeout: duration(MIN_TIMEOUT_MS).optional() };
  const webhook = strict({
    webhook: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
    headers: z.record(z.string(), z.string()).optional(),
    ...common,
  });
  const command = strict({ command: z.array(z.string().min(1)).min(1), ...common });
  // The key picks the shape, so that its own problems are reported (a union would only say
  // that no shape matched).
  const target = z.unknown().transform((value, ctx) => {
    const shape = isRecord(value) && "webhook" in value
      ? webhook
      : isRecord(value) && "command" in value
      ? command
      : undefined;
    if (shape === undefined) {
      ctx.issues.push({
        code: "custom",
        input: value,
        message: 'expected a target with "webhook: URL" or "command: [program, args…]"',
      });
      return z.NEVER;
    }
    const parsed = parseWith(value, shape as z.ZodType<TargetDraft>, ctx);
    return parsed === z.NEVER ? z.NEVER : toTarget(parsed, dir);
  });
  return strict({
    targets: z.array(target).optional(),
    cooldown: duration().optional(),
    discovery_failures: count(1).optional(),
  });
}

/** `notify:` as written, its targets normalised. */
export type NotifyDraft = {
  targets?: NotifyTarget[];
  cooldown?: number;
  discovery_failures?: number;
};

/** A `notify:` mapping over `base` (a job's targets replace the top-level list). */
export function resolveNotify(draft: NotifyDraft | undefined, base?: NotifyConfig): NotifyConfig {
  return {
    targets: draft?.targets ?? base?.targets ?? [],
    cooldownMs: draft?.cooldown ?? base?.cooldownMs ?? NOTIFY_DEFAULTS.cooldownMs,
    discoveryFailures: draft?.discovery_failures ?? base?.discoveryFailures ??
      NOTIFY_DEFAULTS.discoveryFailures,
  };
}

type TargetDraft = {
  webhook?: string;
  headers?: Record<string, string>;
  command?: string[];
  events?: readonly (typeof ALERT_KINDS[number])[];
  timeout?: number;
};

function toTarget(t: TargetDraft, dir: string): NotifyTarget {
  const events = [...(t.events ?? ALERT_KINDS)];
  const timeoutMs = t.timeout ?? TARGET_TIMEOUT_MS;
  if (t.webhook !== undefined) {
    const url = new URL(t.webhook);
    return {
      kind: "webhook",
      id: `webhook:${digest(t.webhook)}`,
      label: `webhook ${url.origin}`,
      url: t.webhook,
      headers: t.headers ?? {},
      events,
      timeoutMs,
    };
  }
  const [program, ...args] = t.command!;
  const argv = [program.includes("/") ? resolve(dir, program) : program, ...args];
  return dropUndefined({
    kind: "command" as const,
    id: `command:${digest(JSON.stringify(argv))}`,
    label: `command ${program}`,
    argv,
    cwd: dir,
    events,
    timeoutMs,
  });
}

/** `ping:` — a URL, or `{ url, fail_url }`. */
export function pingSchema(): z.ZodType<PingConfig, unknown> {
  const url = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
  return z.union([url, strict({ url, fail_url: url.optional() })], {
    error: 'expected a URL or a mapping with "url" and "fail_url"',
  }).transform((p) => {
    const ok = typeof p === "string" ? p : p.url;
    const fail = typeof p === "string" ? undefined : p.fail_url;
    return { url: ok, failUrl: fail ?? `${ok.replace(/\/+$/, "")}/fail` };
  });
}
