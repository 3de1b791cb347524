/** What the feed strategies share between fetching a document and returning raw items. */
import { hash } from "node:crypto";
import { DiscoveryError, type HttpBody, type RawItem } from "./base.ts";
import { type Feed, type FeedEntry, FeedError, parseFeed } from "./_feed.ts";
import type { SitemapDocument, SitemapEntry } from "./_sitemap.ts";
import { parseDate } from "./_dates.ts";
import { isHttpUrl } from "./_text.ts";

/** Accept header of feed requests. */
export const FEED_ACCEPT =
  "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";

/**
 * Parse a fetched feed; a document that is not a readable feed is a DiscoveryError naming the
 * URL. What was odd but readable goes to `warn`, one line each naming the URL.
 */
export function parseFeedBody(body: HttpBody, warn: (message: string) => void): Feed {
  let feed: Feed;
  try {
    feed = parseFeed(body.bytes, {
      url: body.url,
      contentType: body.contentType,
      contentLocation: body.headers.get("content-location") ?? undefined,
    });
  } catch (err) {
    if (!(err instanceof FeedError)) throw err;
    throw new DiscoveryError(`Cannot parse feed ${body.url}: ${err.message}`, {
      url: body.url,
      cause: err,
    });
  }
  for (const warning of feed.warnings) warn(`Feed ${body.url}: ${warning}`);
  return feed;
}

/** An entry's key when it has neither an id nor a link: a hash of its title and date. */
function titleDateKey(entry: FeedEntry): string | undefined {
  const date = entry.published ?? entry.updated ?? "";
  if (!entry.title && !date) return undefined;
  return hash("md5", `${entry.title ?? ""}\n${date}`, "hex").slice(0, 16);
}

/**
 * The warning for the links of one document that are not http(s) URLs (javascript:, mailto:,
 * ftp: …) and so are not used as item URLs; undefined when every link is http(s).
 */
export function nonHttpLinks(document: string, links: (string | undefined)[]): string | undefined {
  const others = links.filter((link) => link !== undefined && !isHttpUrl(link));
  if (others.length === 0) return undefined;
  const count = others.length === 1 ? "1 link is" : `${others.length} links are`;
  return `${document}: ${count} not http(s) and not used as item URL (first: "${
    others[0]!.slice(0, 100)
  }")`;
}

/** A feed entry as a raw item: guid/id as key, else the link (hashed), else title + date. */
export function entryItem(entry: FeedEntry, feed: Feed, source: string): RawItem {
  const link = isHttpUrl(entry.link) ? entry.link : undefined;
  const data: Record<string, unknown> = {
    id: entry.id,
    url: link,
    title: entry.title,
    published: entry.published,
    updated: entry.updated,
    summary: entry.summary,
    content: entry.content,
    authors: entry.authors.length ? entry.authors : undefined,
    categories: entry.categories.length ? entry.categories : undefined,
    enclosures: entry.enclosures.length ? entry.enclosures : undefined,
    image: entry.image ?? entry.media?.thumbnail,
    comments: entry.comments,
    feed: { url: source, title: feed.title, format: feed.version },
  };
  return {
    key: entry.id ?? (link ? undefined : titleDateKey(entry)),
    url: link,
    date: entry.published ?? entry.updated,
    data: compact(data),
  };
}

/** `data` without the fields whose value is undefined. */
export function compact(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in data) {
    if (data[key] !== undefined) out[key] = data[key];
  }
  return out;
}

/** An arXiv API entry as a raw item, keyed by its arXiv id without the version. */
export function arxivItem(entry: FeedEntry): RawItem {
  const id = arxivId(entry.id);
  const extra = entry.extra ?? {};
  const link = isHttpUrl(entry.link) ? entry.link : undefined;
  return {
    key: id?.id,
    url: link,
    date: entry.published,
    data: compact({
      arxiv_id: id?.id,
      version: id?.version,
      url: link,
      pdf_url: entry.links?.find((l) => l.title === "pdf" || l.type === "application/pdf")?.href,
      title: entry.title,
      summary: entry.summary?.replace(/\s+/g, " ").trim(),
      authors: entry.authors,
      categories: entry.categories,
      primary_category: extra["arxiv:primary_category"],
      published: entry.published,
      updated: entry.updated,
      comment: extra["arxiv:comment"],
      journal_ref: extra["arxiv:journal_ref"],
      doi: extra["arxiv:doi"],
    }),
  };
}

/** The arXiv id ("2101.00001", "hep-th/9901001") and version of an entry id such as ".../abs/2101.00001v2". */
function arxivId(entryId: string | undefined): { id: string; version?: number } | undefined {
  const m = /(?:abs\/)?((?:[a-z-]+(?:\.[A-Z]{2})?\/)?\d{4}\.?\d{3,5})(?:v(\d+))?$/i.exec(
    entryId ?? "",
  );
  if (!m) return undefined;
  return m[2] ? { id: m[1], version: Number(m[2]) } : { id: m[1] };
}

/** A sitemap document to read and how many indexes led to it. */
export interface SitemapVisit {
  url: string;
  depth: number;
}

/** Options of `sitemapVisits()`. */
export interface SitemapVisitOptions {
  /** Index levels followed below the configured sitemaps. */
  maxDepth: number;
  /** URLs already queued or read; updated here. */
  seen: Set<string>;
  /** Where the children deeper than maxDepth are reported. */
  warn: (message: string) => void;
}

/** The child sitemaps of an index (or robots.txt) not seen yet, within `maxDepth`. */
export function sitemapVisits(
  doc: SitemapDocument,
  parent: SitemapVisit,
  { maxDepth, seen, warn }: SitemapVisitOptions,
): SitemapVisit[] {
  const visits: SitemapVisit[] = [];
  let tooDeep = 0;
  for (const { loc } of doc.entries) {
    if (seen.has(loc)) continue;
    if (parent.depth + 1 > maxDepth) {
      if (tooDeep++ === 0) warn(`Sitemap ${loc} not read: deeper than max_depth ${maxDepth}`);
      continue;
    }
    seen.add(loc);
    visits.push({ url: loc, depth: parent.depth + 1 });
  }
  if (tooDeep > 1) {
    warn(
      `${tooDeep - 1} more sitemaps of ${parent.url} not read: deeper than max_depth ${maxDepth}`,
    );
  }
  return visits;
}

/** A sitemap `<url>` as a raw item; its lastmod is the date `since` compares. */
export function sitemapItem(entry: SitemapEntry, sitemap: string): RawItem {
  return {
    url: entry.loc,
    date: parseDate(entry.lastmod),
    data: compact({
      url: entry.loc,
      lastmod: entry.lastmod,
      changefreq: entry.changefreq,
      priority: entry.priority,
      sitemap,
    }),
  };
}
