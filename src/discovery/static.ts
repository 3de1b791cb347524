/** static: items listed in jobs.yaml under `items:`. */
import { z } from "zod";
import { BaseDiscovery, itemOptions, type RawItem } from "./base.ts";

const item = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const key = value.key;
  const hasKey = (typeof key === "string" && key !== "") || typeof key === "number";
  if (!hasKey && typeof value.url !== "string") {
    ctx.addIssue({ code: "custom", message: 'expected a "key" or a "url" field' });
  }
});

/** Options of the static strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  /** The items; each a mapping with a `key` or a `url` (hashed into the key) and any other fields. */
  items: z.array(item).min(1),
});

/** Parsed options of the static strategy. */
export type StaticOptions = z.infer<typeof schema>;

/** Emits the configured items; their fields other than `key` are the item data. */
export class StaticDiscovery extends BaseDiscovery<StaticOptions> {
  /** The configured items, in order. */
  fetchItems(): Promise<RawItem[]> {
    return Promise.resolve(this.options.items.map(({ key, ...data }) => ({
      key: key === undefined ? undefined : String(key),
      url: typeof data.url === "string" ? data.url : undefined,
      data,
    })));
  }
}
