/** reddit: a subreddit listing (hot, new, top) through its JSON, following `after`. */
import { z } from "zod";
import {
  BaseDiscovery,
  DiscoveryError,
  httpOptions,
  httpUrl,
  itemOptions,
  type RawItem,
} from "./base.ts";

/** Options of the reddit strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  ...httpOptions,
  /** Subreddit name without "r/" (several joined with "+"). */
  subreddit: z.string().regex(/^[A-Za-z0-9_+]+$/, 'expected a subreddit name like "rust"'),
  /** Which listing; default "hot". */
  listing: z.enum(["hot", "new", "top"]).optional(),
  /** Pages of 100 posts to read at most; default 1. */
  max_pages: z.number().int().positive().optional(),
  /** Site root; default "https://www.reddit.com". */
  base_url: httpUrl.optional(),
});

/** Parsed options of the reddit strategy. */
export type RedditOptions = z.infer<typeof schema>;

/** Reads listing pages until `after` is null, max_pages is reached or `limit` posts are in. */
export class RedditDiscovery extends BaseDiscovery<RedditOptions> {
  /** Posts in listing order; key = the post id (e.g. "1abcde"). */
  async fetchItems(): Promise<RawItem[]> {
    const base = (this.options.base_url ?? "https://www.reddit.com").replace(/\/+$/, "");
    const listing = `${base}/r/${this.options.subreddit}/${this.options.listing ?? "hot"}.json`;
    const items: RawItem[] = [];
    let after: string | undefined;
    for (let page = 0; page < (this.options.max_pages ?? 1); page++) {
      const url = `${listing}?limit=100&raw_json=1${
        after ? `&after=${encodeURIComponent(after)}` : ""
      }`;
      // deno-lint-ignore no-explicit-any
      const json = (await this.fetchJson(url)).json as any;
      const children = json?.data?.children;
      if (!Array.isArray(children)) {
        throw new DiscoveryError(`Cannot read ${url}: expected a Reddit listing`, { url });
      }
      items.push(...children.map((child) => toItem(base, child?.data ?? {})));
      after = typeof json.data.after === "string" ? json.data.after : undefined;
      if (!after || items.length >= (this.options.limit ?? Infinity)) break;
    }
    return items;
  }
}

// deno-lint-ignore no-explicit-any
function toItem(base: string, post: any): RawItem {
  const created = typeof post.created_utc === "number"
    ? new Date(post.created_utc * 1000).toISOString()
    : undefined;
  const permalink = typeof post.permalink === "string"
    ? new URL(post.permalink, base).href
    : undefined;
  return {
    key: typeof post.id === "string" ? post.id : undefined,
    date: created,
    data: {
      id: post.id,
      title: post.title,
      url: post.url ?? permalink,
      permalink,
      author: post.author,
      score: post.score,
      comments: post.num_comments,
      created,
      selftext: post.selftext,
      subreddit: post.subreddit,
    },
  };
}
