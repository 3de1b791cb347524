/** Sitemap documents: urlset, sitemap index, plain-text lists, robots.txt and feeds used as sitemaps. */
import { decodeDocument } from "./_decode.ts";
import { childElements, parseXml, textOf, type XmlElement, XmlError } from "./_xml.ts";
import { FeedError, parseFeed } from "./_feed.ts";
import { resolveUrl } from "./_text.ts";

/** One `<url>` (or `<sitemap>`) of a sitemap: its location and `lastmod` as written. */
export interface SitemapEntry {
  loc: string;
  lastmod?: string;
  changefreq?: string;
  priority?: number;
}

/** What a sitemap document holds: page URLs, or further sitemaps to read. */
export interface SitemapDocument {
  kind: "urlset" | "sitemapindex" | "text" | "robots" | "feed";
  /** Pages (urlset, text, feed) or child sitemaps (sitemapindex, robots). */
  entries: SitemapEntry[];
  /** `<url>`/`<sitemap>` elements skipped because they have no `<loc>`. */
  skipped: number;
}

/** Options of `parseSitemap()`. */
export interface ParseSitemapOptions {
  /** The document's URL; relative robots.txt and feed links resolve against it. Default none. */
  url?: string;
  /** The HTTP Content-Type header. Default none. */
  contentType?: string;
}

/** A sitemap that cannot be read. */
export class SitemapError extends Error {
  override name = "SitemapError";
}

/** Gunzip `bytes` when they start with the gzip magic number, whatever the name says. */
export async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new SitemapError(`corrupt gzip data: ${(err as Error).message}`);
  }
}

/** Parse a sitemap-like document (already gunzipped) into its entries. */
export function parseSitemap(
  bytes: Uint8Array,
  options: ParseSitemapOptions = {},
): SitemapDocument {
  const { text } = decodeDocument(bytes, { contentType: options.contentType });
  const body = text.replace(/^[\ufeff\s]+/, "");
  if (body === "") throw new SitemapError("empty document");
  if (!body.startsWith("<")) return parseTextSitemap(body, options.url);
  let root: XmlElement;
  try {
    root = parseXml(body, { baseUrl: options.url }).root;
  } catch (err) {
    if (err instanceof XmlError) throw new SitemapError(`not well-formed XML: ${err.message}`);
    throw err;
  }
  if (root.local === "urlset") return readEntries("urlset", root, "url");
  if (root.local === "sitemapindex") return readEntries("sitemapindex", root, "sitemap");
  return readFeedAsSitemap(bytes, options);
}

function readEntries(
  kind: "urlset" | "sitemapindex",
  root: XmlElement,
  child: string,
): SitemapDocument {
  const entries: SitemapEntry[] = [];
  let skipped = 0;
  for (const el of childElements(root, child)) {
    const entry = readEntry(el);
    if (entry) entries.push(entry);
    else skipped++;
  }
  return { kind, entries, skipped };
}

function readEntry(el: XmlElement): SitemapEntry | undefined {
  const fields: Record<string, string> = {};
  for (const child of childElements(el)) {
    const value = textOf(child).trim();
    if (value !== "") fields[child.local] ??= value;
  }
  if (fields.loc === undefined) return undefined;
  const entry: SitemapEntry = { loc: fields.loc };
  if (fields.lastmod !== undefined) entry.lastmod = fields.lastmod;
  if (fields.changefreq !== undefined) entry.changefreq = fields.changefreq.toLowerCase();
  const priority = Number(fields.priority);
  if (fields.priority !== undefined && Number.isFinite(priority)) entry.priority = priority;
  return entry;
}

function readFeedAsSitemap(bytes: Uint8Array, options: ParseSitemapOptions): SitemapDocument {
  let feed;
  try {
    feed = parseFeed(bytes, options);
  } catch (err) {
    if (err instanceof FeedError) {
      throw new SitemapError(`not a sitemap: ${err.message.replace(/^not a feed: /, "")}`);
    }
    throw err;
  }
  const entries: SitemapEntry[] = [];
  let skipped = 0;
  for (const item of feed.entries) {
    // A feed entry without a link still names its page when its id is a URL.
    const loc = item.link ?? (/^https?:\/\//i.test(item.id ?? "") ? item.id : undefined);
    if (!loc) {
      skipped++;
      continue;
    }
    const lastmod = item.updated ?? item.published;
    entries.push(lastmod === undefined ? { loc } : { loc, lastmod });
  }
  return { kind: "feed", entries, skipped };
}

function parseTextSitemap(text: string, url: string | undefined): SitemapDocument {
  const lines = text.split(/\r?\n|\r/).map((line) => line.trim());
  const isRobots = lines.some((line) => /^(sitemap|user-agent|disallow|allow)\s*:/i.test(line));
  if (!isRobots) {
    const entries = lines.filter((line) => /^https?:\/\/\S+$/i.test(line)).map((loc) => ({ loc }));
    return { kind: "text", entries, skipped: 0 };
  }
  const seen = new Set<string>();
  const entries: SitemapEntry[] = [];
  for (const line of lines) {
    const m = /^sitemap\s*:\s*(\S+)/i.exec(line);
    const loc = m ? resolveUrl(m[1], url) : undefined;
    if (loc && !seen.has(loc)) {
      seen.add(loc);
      entries.push({ loc });
    }
  }
  return { kind: "robots", entries, skipped: 0 };
}
