/** json_api: records at a path in a JSON API's responses, following its pagination. */
import { z } from "zod";
import { describeValue } from "../util/quote.ts";
import {
  BaseDiscovery,
  DiscoveryError,
  dotPath,
  httpOptions,
  httpUrl,
  itemOptions,
  nextLink,
  type RawItem,
  recordItem,
} from "./base.ts";

const pagination = z.discriminatedUnion("type", [
  /** ?page=1, 2, 3 … until a page has no items. */
  z.strictObject({
    type: z.literal("page"),
    param: z.string().min(1).default("page"),
    start: z.number().int().min(0).default(1),
  }),
  /** ?offset=0, n, 2n … (n = items on the previous page) until a page has no items. */
  z.strictObject({
    type: z.literal("offset"),
    param: z.string().min(1).default("offset"),
  }),
  /** ?cursor=<value at cursor_path in the previous response> until it is missing or empty. */
  z.strictObject({
    type: z.literal("cursor"),
    param: z.string().min(1).default("cursor"),
    cursor_path: z.string().min(1),
  }),
  /** The URL at next_path in the previous response, until it is missing or empty. */
  z.strictObject({ type: z.literal("next_url"), next_path: z.string().min(1) }),
  /** The Link header's rel="next" URL. */
  z.strictObject({ type: z.literal("link") }),
]);

/** Options of the json_api strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  ...httpOptions,
  /** First page of the API. */
  url: httpUrl,
  /** Dot path to the array of records in a response; default the response itself. */
  items_path: z.string().min(1).optional(),
  /** How to reach the next page; default no pagination. */
  pagination: pagination.optional(),
  /** At most this many pages per discovery; default 10. */
  max_pages: z.number().int().positive().optional(),
});

/** Parsed options of the json_api strategy. */
export type JsonApiOptions = z.infer<typeof schema>;
type Pagination = z.infer<typeof pagination>;

/** Fetches pages until one is empty, pagination ends, or max_pages is reached. */
export class JsonApiDiscovery extends BaseDiscovery<JsonApiOptions> {
  /** The records of every page, in order. */
  async fetchItems(): Promise<RawItem[]> {
    const paging = this.options.pagination;
    const items: RawItem[] = [];
    const seen = new Set<string>();
    let url: string | undefined = this.options.url;
    for (let page = 0; url && !seen.has(url) && page < (this.options.max_pages ?? 10); page++) {
      seen.add(url);
      const body = await this.fetchJson(url);
      const records = this.#records(body.json, body.url);
      for (const record of records) items.push(recordItem(record));
      if (!paging || records.length === 0) break;
      const { json, headers } = body;
      url = nextPage(paging, { url: body.url, json, headers, page, offset: items.length });
    }
    return items;
  }

  #records(json: unknown, url: string): Record<string, unknown>[] {
    const path = this.options.items_path;
    const value = path === undefined ? json : dotPath(json, path);
    if (!Array.isArray(value)) {
      const where = path === undefined ? "the response" : `"${path}" (items_path)`;
      throw new DiscoveryError(`Cannot find records in ${url}: ${where} is not an array`, { url });
    }
    const bad = value.findIndex((record) =>
      record === null || typeof record !== "object" || Array.isArray(record)
    );
    if (bad >= 0) {
      const got = describeValue(value[bad]);
      throw new DiscoveryError(
        `Cannot use record ${bad + 1} from ${url}: expected an object, got ${got}`,
        {
          url,
        },
      );
    }
    return value;
  }
}

interface PageState {
  url: string;
  json: unknown;
  headers: Headers;
  /** Index of the page just read, from 0. */
  page: number;
  /** Records read so far. */
  offset: number;
}

function nextPage(paging: Pagination, state: PageState): string | undefined {
  switch (paging.type) {
    case "page":
      return withParam(state.url, paging.param, String(paging.start + state.page + 1));
    case "offset":
      return withParam(state.url, paging.param, String(state.offset));
    case "cursor": {
      const cursor = dotPath(state.json, paging.cursor_path);
      const usable = typeof cursor === "string" || typeof cursor === "number";
      return usable && cursor !== ""
        ? withParam(state.url, paging.param, String(cursor))
        : undefined;
    }
    case "next_url": {
      const next = dotPath(state.json, paging.next_path);
      return typeof next === "string" && next !== "" ? new URL(next, state.url).href : undefined;
    }
    case "link":
      return nextLink(state.headers, state.url);
  }
}

function withParam(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.href;
}
