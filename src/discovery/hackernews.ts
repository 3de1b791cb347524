/** hackernews: a Hacker News story list and its items, through the official API. */
import { z } from "zod";
import {
  BaseDiscovery,
  DiscoveryError,
  httpOptions,
  httpUrl,
  itemOptions,
  type RawItem,
} from "./base.ts";

/** Options of the hackernews strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  ...httpOptions,
  /** Which list. */
  list: z.enum(["top", "new", "best", "ask", "show"]),
  /** Items fetched at once; default 8. */
  concurrency: z.number().int().min(1).max(32).optional(),
  /** API root; default "https://hacker-news.firebaseio.com/v0". */
  api_url: httpUrl.optional(),
});

/** Parsed options of the hackernews strategy. */
export type HackernewsOptions = z.infer<typeof schema>;

/** Fetches the list, then its first `limit` items (all of them without a limit). */
export class HackernewsDiscovery extends BaseDiscovery<HackernewsOptions> {
  /** Items in list order; deleted and dead items are left out. Key = the story id. */
  async fetchItems(): Promise<RawItem[]> {
    const api = (this.options.api_url ?? "https://hacker-news.firebaseio.com/v0").replace(
      /\/+$/,
      "",
    );
    const listUrl = `${api}/${this.options.list}stories.json`;
    const list = (await this.fetchJson(listUrl)).json;
    if (!Array.isArray(list) || !list.every(Number.isInteger)) {
      throw new DiscoveryError(`Cannot read ${listUrl}: expected an array of item ids`, {
        url: listUrl,
      });
    }
    const ids = (list as number[]).slice(0, this.options.limit ?? list.length);
    const found = await this.#inBatches(ids, (id) => this.#item(`${api}/item/${id}.json`));
    return found.filter((item): item is RawItem => item !== undefined);
  }

  async #item(url: string): Promise<RawItem | undefined> {
    // deno-lint-ignore no-explicit-any
    const story = (await this.fetchJson(url)).json as any;
    if (story === null || typeof story !== "object" || story.deleted || story.dead) {
      return undefined;
    }
    const discussion = `https://news.ycombinator.com/item?id=${story.id}`;
    const time = typeof story.time === "number"
      ? new Date(story.time * 1000).toISOString()
      : undefined;
    return {
      key: String(story.id),
      date: time,
      data: {
        id: story.id,
        type: story.type,
        title: story.title,
        url: story.url ?? discussion,
        discussion,
        by: story.by,
        score: story.score,
        comments: story.descendants,
        time,
        text: story.text,
      },
    };
  }

  /** Runs `task` over `ids` with at most `concurrency` in flight; results keep the ids' order. */
  async #inBatches<T>(ids: number[], task: (id: number) => Promise<T>): Promise<T[]> {
    const results: T[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const index = next++;
        try {
          results[index] = await task(ids[index]);
        } catch (err) {
          next = ids.length; // the other workers stop too
          throw err;
        }
      }
    };
    const workers = Math.min(this.options.concurrency ?? 8, ids.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return results;
  }
}
