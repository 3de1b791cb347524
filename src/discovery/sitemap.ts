/** sitemap: page URLs of sitemaps (urlset, index, .gz, text, robots.txt), following indexes. */
import { z } from "zod";
import {
  BaseDiscovery,
  commonOptions,
  DiscoveryError,
  NOT_MODIFIED,
  type RawItem,
  requireSource,
} from "./base.ts";
import { sitemapItem, type SitemapVisit, sitemapVisits } from "./_feed_items.ts";
import { parseSitemap, SitemapError } from "./_sitemap.ts";

/** Options of the sitemap strategy. */
export const schema = requireSource(z.strictObject({
  ...commonOptions,
  /** How deep sitemap indexes (and robots.txt) are followed; default 3. */
  max_depth: z.number().int().min(0).max(10).optional(),
  /** Sitemap documents read per discovery, at most; default 1000. */
  max_sitemaps: z.number().int().positive().optional(),
}));

/** Parsed options of the sitemap strategy. */
export type SitemapOptions = z.infer<typeof schema>;

/**
 * Reads the sitemaps breadth first, each conditionally (an unchanged document answers 304 and is
 * skipped with what it lists); a broken child sitemap is logged and skipped, a broken root fails.
 */
export class SitemapDiscovery extends BaseDiscovery<SitemapOptions> {
  /** The pages of every sitemap reached, with their lastmod; keyed by hashUrl(loc). */
  async fetchItems(): Promise<RawItem[]> {
    const queue: SitemapVisit[] = this.sourceUrls().map((url) => ({ url, depth: 0 }));
    const seen = new Set(queue.map((v) => v.url));
    const maxSitemaps = this.options.max_sitemaps ?? 1000;
    const items: RawItem[] = [];
    // An index pointer, not shift(): an index may list a million sitemaps.
    for (let read = 0; read < queue.length; read++) {
      const visit = queue[read];
      if (read >= maxSitemaps) {
        this.warn(`Sitemap limit of ${maxSitemaps} reached: ${queue.length - read} more not read`);
        break;
      }
      try {
        for (const next of await this.#read(visit, seen, items)) queue.push(next);
      } catch (err) {
        const error = this.#failure(err, visit.url);
        if (visit.depth === 0 || !(error instanceof DiscoveryError)) throw error;
        this.sourceFailed(visit.url, error);
      }
    }
    return items;
  }

  /** Reads one sitemap: its pages go into `items`; the child sitemaps to read are returned. */
  async #read(visit: SitemapVisit, seen: Set<string>, items: RawItem[]): Promise<SitemapVisit[]> {
    const body = await this.fetchBytes(visit.url, { conditional: true });
    if (body === NOT_MODIFIED) return [];
    const doc = parseSitemap(body.bytes, { url: body.url, contentType: body.contentType });
    for (const warning of doc.warnings) this.warn(`Sitemap ${body.url}: ${warning}`);
    if (doc.kind === "sitemapindex" || doc.kind === "robots") {
      const maxDepth = this.options.max_depth ?? 3;
      return sitemapVisits(doc, visit, { maxDepth, seen, warn: (m) => this.warn(m) });
    }
    for (const entry of doc.entries) items.push(sitemapItem(entry, body.url));
    return [];
  }

  /** Any failure reading `url` as a DiscoveryError naming it (aborts pass through). */
  #failure(err: unknown, url: string): unknown {
    if (err instanceof DiscoveryError || this.env.signal?.aborted) return err;
    const reason = err instanceof SitemapError ? "" : "unexpected error: ";
    return new DiscoveryError(
      `Cannot parse sitemap ${url}: ${reason}${err instanceof Error ? err.message : String(err)}`,
      { url, cause: err },
    );
  }
}
