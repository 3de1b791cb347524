/** rss: entries of RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed documents, format auto-detected. */
import { z } from "zod";
import { BaseDiscovery, commonOptions, NOT_MODIFIED, type RawItem, requireSource } from "./base.ts";
import { entryItem, FEED_ACCEPT, nonHttpLinks, parseFeedBody } from "./_feed_items.ts";

/** Options of the rss strategy: the common options (`url` or `urls` are the feeds). */
export const schema = requireSource(z.strictObject({ ...commonOptions }));

/** Parsed options of the rss strategy. */
export type RssOptions = z.infer<typeof schema>;

/** Reads each feed (conditionally: an unchanged feed costs one 304) and emits its entries. */
export class RssDiscovery extends BaseDiscovery<RssOptions> {
  /** Entries of every configured feed, in document order; keyed by guid/id, link or title + date. */
  async fetchItems(): Promise<RawItem[]> {
    const items: RawItem[] = [];
    for (const url of this.sourceUrls()) {
      const body = await this.fetchBytes(url, {
        conditional: true,
        headers: { accept: FEED_ACCEPT },
      });
      if (body === NOT_MODIFIED) continue;
      const feed = parseFeedBody(body, (message) => this.warn(message));
      this.noteSchedule(url, feed.schedule);
      const links = nonHttpLinks(`Feed ${body.url}`, feed.entries.map((e) => e.link));
      if (links) this.warn(links);
      for (const entry of feed.entries) items.push(entryItem(entry, feed, body.url));
    }
    return items;
  }
}
