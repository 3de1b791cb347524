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
    for (let read = 0; queue.length > 0; read++) {
      const visit = queue.shift()!;
      if (read >= maxSitemaps) {
        const left = queue.length + 1;
        this.env.log.warn(`Sitemap limit of ${maxSitemaps} reached: ${left} more not read`, {
          job: this.env.jobId,
        });
        break;
      }
      try {
        const body = await this.fetchBytes(visit.url, { conditional: true });
        if (body === NOT_MODIFIED) continue;
        const doc = parseSitemap(body.bytes, { url: body.url, contentType: body.contentType });
        if (doc.kind === "sitemapindex" || doc.kind === "robots") {
          const { log, jobId } = this.env;
          const maxDepth = this.options.max_depth ?? 3;
          queue.push(...sitemapVisits(doc, visit, { maxDepth, seen, log, jobId }));
        } else items.push(...doc.entries.map((entry) => sitemapItem(entry, body.url)));
      } catch (err) {
        const error = err instanceof SitemapError
          ? new DiscoveryError(`Cannot parse sitemap ${visit.url}: ${err.message}`, {
            url: visit.url,
            cause: err,
          })
          : err;
        if (visit.depth === 0 || !(error instanceof DiscoveryError)) throw error;
        this.env.log.warn(error.message, { job: this.env.jobId });
      }
    }
    return items;
  }
}
