/** Option shapes shared by strategy schemas (zod), and the parsers of their values. */
import { z } from "zod";
import { MIN_TIMEOUT_MS, parseDuration, parseDurationAtLeast, parseRate } from "../util/units.ts";
import { describeValue } from "../util/quote.ts";

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*((?:[kmg]?b)?)$/i;

/** A zod string that must be a duration such as "30s" (checked with parseDuration). */
export const durationString: z.ZodString = z.string().superRefine((value, ctx) => {
  try {
    parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
  }
});

/** A zod string that must be a timeout: a duration of at least MIN_TIMEOUT_MS. */
export const timeoutString: z.ZodString = z.string().superRefine((value, ctx) => {
  try {
    parseDurationAtLeast(value, MIN_TIMEOUT_MS);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
  }
});

/** A zod string that must be a rate such as "2/s" (checked with parseRate). */
export const rateString: z.ZodString = z.string().superRefine((value, ctx) => {
  try {
    parseRate(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
  }
});

/** A zod string that must be an absolute http(s) URL. */
export const httpUrl: z.ZodURL = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });

/** A zod string that must compile as a regular expression. */
export const regexString: z.ZodString = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch {
    ctx.addIssue({ code: "custom", message: `expected a regular expression, got "${value}"` });
  }
});

const sinceString = z.string().superRefine((value, ctx) => {
  if (parseSince(value, 0) === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a date like "2024-05-01" or a duration like "7d", got "${value}"`,
    });
  }
});

const patterns = z.union([regexString, z.array(regexString)]);

/** Options every strategy accepts: schedule, keys, filters and limit. */
export const itemOptions = {
  /** How often discovery runs in `jobctl run`; default every run. */
  every: durationString.optional(),
  /** Data field (dot path) whose value is the item key; default the strategy's id or hashUrl(url). */
  key: z.string().min(1).optional(),
  /** Keep only items dated on or after this date, or within this duration of now. */
  since: sinceString.optional(),
  /** Keep only items whose URL (or key) matches one of these regular expressions. */
  include: patterns.optional(),
  /** Drop items whose URL (or key) matches one of these regular expressions. */
  exclude: patterns.optional(),
  /** At most this many items per discovery; default no limit. */
  limit: z.number().int().positive().optional(),
};

/** Options of strategies that make HTTP requests. */
export const httpOptions = {
  /** Extra request headers; `${ENV}` values are substituted by the config loader and never logged. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Time one request may take, body included; default "30s". */
  timeout: timeoutString.optional(),
  /** Attempts after the first on network errors, timeouts, 429 and 5xx; default 3. */
  retries: z.number().int().min(0).max(10).optional(),
  /** At most this many requests per time, e.g. "2/s" or "30/min"; default no pacing. */
  rate: rateString.optional(),
  /** Largest accepted response body after decompression, e.g. 10000000 or "10MB"; default "64MB". */
  max_bytes: z.union([
    z.number().int().positive(),
    z.string().regex(SIZE_PATTERN, 'expected a size like "10MB"'),
  ]).optional(),
};

/** `url` or `urls`: the documents a strategy reads. */
export const sourceOptions = {
  /** One document to read. */
  url: httpUrl.optional(),
  /** Several documents to read; items of all of them are merged. */
  urls: z.array(httpUrl).min(1).optional(),
};

/** The common options of strategies that read documents over HTTP: item, HTTP and source options. */
export const commonOptions = { ...itemOptions, ...httpOptions, ...sourceOptions };

/** Values of the common options, as a strategy schema parses them. */
export type CommonOptions = {
  every?: string;
  key?: string;
  since?: string;
  include?: string | string[];
  exclude?: string | string[];
  limit?: number;
  headers?: Record<string, string>;
  timeout?: string;
  retries?: number;
  rate?: string;
  max_bytes?: number | string;
  url?: string;
  urls?: string[];
};

/** `path` or `url`: one file (relative to jobs.yaml) or one http(s) URL to read. */
export const fileOrUrlOptions = {
  /** A file, relative to jobs.yaml. */
  path: z.string().min(1).optional(),
  /** An http(s) URL. */
  url: httpUrl.optional(),
};

/** Adds the check that exactly one of `keys` is given to an object schema. */
export function exactlyOne<T extends z.ZodType<Record<string, unknown>>>(
  schema: T,
  keys: string[],
): T {
  return schema.superRefine((value, ctx) => {
    if (keys.filter((key) => value[key] !== undefined).length !== 1) {
      const names = keys.map((key) => `"${key}"`).join(" or ");
      ctx.addIssue({ code: "custom", message: `expected exactly one of ${names}` });
    }
  }) as T;
}

/** Adds the check that exactly one of `url` and `urls` is given to a strategy schema. */
export function requireSource<T extends z.ZodType<Record<string, unknown>>>(schema: T): T {
  return exactlyOne(schema, ["url", "urls"]);
}

/** Bytes from a size option: a number, or a string like "512KB", "10MB", "1GB". */
export function parseSize(value: number | string): number {
  if (typeof value === "number") return value;
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) throw new Error(`expected a size like "10MB", got ${describeValue(value)}`);
  const unit = { "": 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[match[2].toUpperCase()];
  return Math.floor(Number(match[1]) * (unit ?? 1));
}

/** Milliseconds of a `since` option (date or duration before `now`); undefined when invalid. */
export function parseSince(value: string, now: number): number | undefined {
  try {
    return now - parseDuration(value);
  } catch {
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : date;
  }
}
