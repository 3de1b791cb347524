/** Field schemas shared by the jobs.yaml schema: strict mappings, durations, rates, counts, cron. */
import { Cron, CronPattern } from "croner";
import { z } from "zod";
import { issueMessage } from "./_issues.ts";
import { describeValue } from "../util/quote.ts";
import { parseDurationAtLeast, parseRate } from "../util/units.ts";

/** A mapping with exactly `shape`'s keys; each unknown key is its own issue with a suggestion. */
export function strict<T extends z.ZodRawShape>(shape: T): z.ZodObject<T> {
  return rejectUnknownKeys(z.object(shape));
}

/** `schema` reporting each key outside its shape (and `alsoKnown`) as an issue at that key. */
export function rejectUnknownKeys<T extends z.ZodObject>(schema: T, alsoKnown: string[] = []): T {
  const known = [...alsoKnown, ...Object.keys(schema.shape)];
  const unknownKey = z.custom(() => false, {
    abort: false,
    params: { atKey: true },
    // Messages are made once the parse is over, when the path ends with the offending key.
    error: (issue) => unknownKeyMessage(String(issue.path?.at(-1)), known),
  });
  return schema.catchall(unknownKey) as unknown as T;
}

/** `unknown key "concurency" (did you mean "concurrency"?)` when a known key is close to it. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  return `unknown key ${JSON.stringify(key)}${didYouMean(key, known)}`;
}

/** ` (did you mean "rss"?)` when one of `known` is a small edit away from `word`, else "". */
export function didYouMean(word: string, known: readonly string[]): string {
  const best = closest(word, known);
  return best === undefined ? "" : ` (did you mean ${JSON.stringify(best)}?)`;
}

/** The one of `known` nearest to `word` when it is a small edit away (a third of its length). */
export function closest(word: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  return known
    .map((name) => ({ name, distance: editDistance(word, name) }))
    .filter((c) => c.distance <= limit)
    .sort((a, b) => a.distance - b.distance)[0]?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/** A value converted by `parse`; what it throws becomes the issue's message. */
function convertedBy<T>(parse: (value: never) => T): z.ZodType<T, unknown> {
  return z.unknown().transform((value, ctx) => {
    try {
      return parse(value as never);
    } catch (err) {
      ctx.issues.push({ code: "custom", input: value, message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** A duration ("30s") as milliseconds, of at least `minMs`. */
export function duration(minMs = 0): z.ZodType<number, unknown> {
  return convertedBy((value: string | number) => parseDurationAtLeast(value, minMs));
}

/** A rate ("2/s") as { count, perMs }. */
export function rate(): z.ZodType<ReturnType<typeof parseRate>, unknown> {
  return convertedBy(parseRate);
}

/** A whole number of at least `min`. */
export function count(min: number): z.ZodType<number, unknown> {
  return convertedBy((value: unknown) => {
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= min) return value;
    throw new Error(`expected a whole number of at least ${min}, got ${describeValue(value)}`);
  });
}

/** A string or a number, as a string (a handler version). */
export function label(): z.ZodType<string, unknown> {
  return convertedBy((value: unknown) => {
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number") return String(value);
    throw new Error(`expected a string or a number, got ${describeValue(value)}`);
  });
}

/** A cron expression croner accepts and that fires at least once more. */
export function cron(): z.ZodType<string, unknown> {
  return convertedBy((value: unknown) => {
    if (typeof value !== "string") {
      throw new Error(
        `expected a cron expression like "*/15 * * * *", got ${describeValue(value)}`,
      );
    }
    try {
      new CronPattern(value);
    } catch (err) {
      const reason = (err as Error).message.replace(/^CronPattern: /, "").replace(/\.$/, "");
      throw new Error(`invalid cron expression ${describeValue(value)}: ${lowerFirst(reason)}`);
    }
    if (new Cron(value, { paused: true }).nextRun() === null) {
      throw new Error(`cron expression ${describeValue(value)} never fires`);
    }
    return value;
  });
}

/**
 * Parses `value` with `schema` inside a transform, passing its issues on; used where the schema
 * depends on the value (a zod union would only say that no shape matched).
 */
export function parseWith<T>(
  value: unknown,
  schema: z.ZodType<T>,
  ctx: z.core.$RefinementCtx,
): T | typeof z.NEVER {
  const result = schema.safeParse(value, { error: issueMessage });
  if (result.success) return result.data;
  // The issues already carry their message; `input` is only needed to make one.
  for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: undefined });
  return z.NEVER;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** True for a mapping (a plain object), false for lists, null and scalars. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `value` without its undefined fields, so optional fields are absent rather than undefined. */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
