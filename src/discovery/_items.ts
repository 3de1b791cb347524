/** Raw items: dot paths into their data, records as items, and the filters of the common options. */
import type { DiscoveredItem, DiscoveredItems, RawItem } from "./_types.ts";
import { type CommonOptions, parseSince } from "./_options.ts";

/** Follows a dot path ("data.items", "meta.id") into a value; undefined when any step is missing. */
export function dotPath(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/**
 * A record (JSON object, table row) as a raw item: its `key` or `id` field is the natural id,
 * its `url` field the URL, its `date` field the date compared with `since`.
 */
export function recordItem(record: Record<string, unknown>): RawItem {
  const id = record.key ?? record.id;
  const date = record.date;
  return {
    key: typeof id === "string" || typeof id === "number" ? String(id) : undefined,
    url: typeof record.url === "string" ? record.url : undefined,
    date: typeof date === "string" || typeof date === "number" ? date : undefined,
    data: record,
  };
}

function toMs(date: RawItem["date"]): number | undefined {
  if (date === undefined) return undefined;
  const ms = date instanceof Date
    ? date.getTime()
    : typeof date === "number"
    ? date
    : Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a raw item passes `include`, `exclude` and `since` (as of `now`). */
export function itemFilter(
  options: CommonOptions,
  now: number,
): (item: RawItem, key: string) => boolean {
  const since = options.since === undefined ? undefined : parseSince(options.since, now);
  const include = toRegexes(options.include);
  const exclude = toRegexes(options.exclude);
  return (item, key) => {
    const target = item.url ?? key;
    if (include.length && !include.some((re) => re.test(target))) return false;
    if (exclude.some((re) => re.test(target))) return false;
    if (since === undefined) return true;
    const date = toMs(item.date);
    return date === undefined || date >= since;
  };
}

function toRegexes(value: string | string[] | undefined): RegExp[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((source) => new RegExp(source));
}

/**
 * Raw items under the keys a first pass over them chose: `keys[i]` is the key of raw item i, or
 * undefined when it was left out. Each iteration reads the raw items again, so they must be
 * an array or an iterable that starts over each time, never a one-pass iterator.
 */
export function keyedItems(
  raw: Iterable<RawItem>,
  keys: readonly (string | undefined)[],
  length: number,
): DiscoveredItems {
  return {
    length,
    *[Symbol.iterator](): Iterator<DiscoveredItem> {
      let index = 0;
      for (const item of raw) {
        if (index === keys.length) return;
        const key = keys[index++];
        if (key === undefined) continue;
        const data = item.url !== undefined && !("url" in item.data)
          ? { url: item.url, ...item.data }
          : item.data;
        yield { key, data };
      }
    },
  };
}
