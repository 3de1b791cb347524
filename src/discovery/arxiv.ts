/** arxiv: papers matching an arXiv API query (an Atom feed), page by page. */
import { z } from "zod";
import { parseDuration } from "../util/units.ts";
import {
  BaseDiscovery,
  DiscoveryError,
  durationString,
  httpOptions,
  itemOptions,
  type RawItem,
} from "./base.ts";
import { arxivItem, FEED_ACCEPT, parseFeedBody } from "./_feed_items.ts";

/** Options of the arxiv strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  ...httpOptions,
  /** The arXiv search query, e.g. "cat:cs.CL AND ti:transformer". */
  query: z.string().min(1),
  /** Papers to read in all; default 100. */
  max_results: z.number().int().positive().max(30_000).optional(),
  /** Papers per request; default 100 (arXiv allows up to 2000). */
  page_size: z.number().int().positive().max(2_000).optional(),
  /** Wait between page requests, as arXiv asks; default "3s". */
  page_delay: durationString.optional(),
  /** Sort field; default "submittedDate". */
  sort_by: z.enum(["relevance", "lastUpdatedDate", "submittedDate"]).optional(),
  /** Sort order; default "descending". */
  sort_order: z.enum(["ascending", "descending"]).optional(),
  /** The API endpoint; default "https://export.arxiv.org/api/query". */
  api_url: z.string().regex(/^https?:\/\//i, "expected an http(s) URL").optional(),
});

/** Parsed options of the arxiv strategy. */
export type ArxivOptions = z.infer<typeof schema>;

/** Pages through the query with start/max_results; keyed by arXiv id without its version. */
export class ArxivDiscovery extends BaseDiscovery<ArxivOptions> {
  /** Papers in the API's order, up to max_results. */
  async fetchItems(): Promise<RawItem[]> {
    const o = this.options;
    const wanted = o.max_results ?? 100;
    const pageSize = Math.min(o.page_size ?? 100, wanted);
    const items: RawItem[] = [];
    for (let start = 0; start < wanted; start += pageSize) {
      if (start > 0) await this.wait(parseDuration(o.page_delay ?? "3s"));
      const url = new URL(o.api_url ?? "https://export.arxiv.org/api/query");
      url.searchParams.set("search_query", o.query);
      url.searchParams.set("start", String(start));
      url.searchParams.set("max_results", String(Math.min(pageSize, wanted - start)));
      url.searchParams.set("sortBy", o.sort_by ?? "submittedDate");
      url.searchParams.set("sortOrder", o.sort_order ?? "descending");
      const body = await this.fetchBytes(url.href, { headers: { accept: FEED_ACCEPT } });
      const feed = parseFeedBody(body, this.env.log, this.env.jobId);
      const apiError = feed.entries.find((e) => e.id?.includes("/api/errors"));
      if (apiError) {
        throw new DiscoveryError(`arXiv rejected the query at ${url.href}: ${apiError.summary}`, {
          url: url.href,
        });
      }
      items.push(...feed.entries.map(arxivItem));
      const total = Number(feed.extra?.["opensearch:totalResults"] ?? Infinity);
      if (feed.entries.length === 0 || start + feed.entries.length >= total) break;
    }
    return items;
  }
}
