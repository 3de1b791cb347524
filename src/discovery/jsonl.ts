/** jsonl: JSON objects, one a line, from a file or URL. */
import { z } from "zod";
import {
  BaseDiscovery,
  exactlyOne,
  fileOrUrlOptions,
  httpOptions,
  itemOptions,
  NOT_MODIFIED,
  type RawItem,
} from "./base.ts";
import { recordItems } from "./_records.ts";

/** Options of the jsonl strategy. */
export const schema = exactlyOne(
  z.strictObject({ ...itemOptions, ...httpOptions, ...fileOrUrlOptions }),
  ["path", "url"],
);

/** Parsed options of the jsonl strategy. */
export type JsonlOptions = z.infer<typeof schema>;

/** One item per line: key from the `key` option, a "key" or "id" field, or hashUrl of "url". */
export class JsonlDiscovery extends BaseDiscovery<JsonlOptions> {
  /** The records in file order, read line by line; a URL is fetched conditionally. */
  async fetchItems(): Promise<Iterable<RawItem>> {
    const body = await this.readLocalOrUrl(this.options.path ?? this.options.url!);
    if (body === NOT_MODIFIED) return [];
    return recordItems(body.bytes, body.source);
  }
}
