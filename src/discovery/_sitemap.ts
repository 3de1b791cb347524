/** Sitemap documents: urlset, sitemap index, plain-text lists, robots.txt and feeds used as sitemaps. */
import { decodeDocument } from "./_decode.ts";
import { parseXml, type XmlElement, XmlError } from "./_xml.ts";
import { textOf } from "./_xml_read.ts";
import { FeedError, parseFeed } from "./_feed.ts";
import { isHttpUrl, resolveUrl } from "./_text.ts";

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
  /** Pages (urlset, text, feed) or child sitemaps (sitemapindex, robots); http(s) URLs only. */
  entries: SitemapEntry[];
  /** `<url>`/`<sitemap>` elements skipped because they have no `<loc>`. */
  skipped: number;
  /** Problems that did not stop the reading: malformed XML, locations that are not http(s). */
  warnings: string[];
}

/** Options of `parseSitemap()`. */
export interface ParseSitemapOptions {
  /** The document's URL; relative locations resolve against it. Default none. */
  url?: string;
  /** The HTTP Content-Type header. Default none. */
  contentType?: string;
}

/** A sitemap that cannot be read. */
export class SitemapError extends Error {
  override name = "SitemapError";
}

/**
 * Parse a sitemap-like document (already gunzipped) into its entries. XML is read entry by
 * entry, so memory does not grow with the tree; malformed XML is read with warnings, and
 * refused only when no entry can be read from it.
 */
export function parseSitemap(
  bytes: Uint8Array,
  options: ParseSitemapOptions = {},
): SitemapDocument {
  const { text } = decodeDocument(bytes, { contentType: options.contentType });
  const body = text.replace(/^[\ufeff\s]+/, "");
  if (body === "") throw new SitemapError("empty document");
  if (!body.startsWith("<")) return parseTextSitemap(body, options.url);
  const reader = new EntryReader(options.url);
  let root: XmlElement;
  let warnings: string[];
  try {
    ({ root, warnings } = parseXml(text, {
      baseUrl: options.url,
      onElement: (el, ancestors) => reader.take(el, ancestors),
    }));
  } catch (err) {
    if (err instanceof XmlError) throw new SitemapError(`not well-formed XML: ${err.message}`);
    throw err;
  }
  if (root.local !== "urlset" && root.local !== "sitemapindex") {
    return readFeedAsSitemap(bytes, options);
  }
  if (warnings.length && reader.entries.length === 0) {
    throw new SitemapError(`not well-formed XML: ${warnings[0]}; no entry could be read`);
  }
  return {
    kind: root.local,
    entries: reader.entries,
    skipped: reader.skipped,
    warnings: [...warnings, ...reader.warnings()],
  };
}

/** Takes the `<url>` / `<sitemap>` children of the root as they complete. */
class EntryReader {
  readonly entries: SitemapEntry[] = [];
  skipped = 0;
  #truncated = 0;
  #locations = new Locations();

  constructor(private readonly base: string | undefined) {}

  /** Reads `el` when it is an entry; true drops it from the tree. */
  take(el: XmlElement, ancestors: readonly XmlElement[]): boolean {
    if (ancestors.length !== 1) return false;
    const kind = ancestors[0].local;
    if (
      !(kind === "urlset" && el.local === "url") &&
      !(kind === "sitemapindex" && el.local === "sitemap")
    ) {
      return false;
    }
    if (el.truncated) this.#truncated++;
    else this.#read(el);
    return true;
  }

  #read(el: XmlElement): void {
    // The first non-empty value of each field counts.
    let loc: string | undefined;
    let lastmod: string | undefined;
    let changefreq: string | undefined;
    let priority: string | undefined;
    for (const child of el.children) {
      if (typeof child === "string") continue;
      const local = child.local;
      if (local === "loc") loc ||= textOf(child).trim();
      else if (local === "lastmod") lastmod ||= textOf(child).trim();
      else if (local === "changefreq") changefreq ||= textOf(child).trim();
      else if (local === "priority") priority ||= textOf(child).trim();
    }
    if (!loc) {
      this.skipped++;
      return;
    }
    const url = this.#locations.accept(loc, this.base);
    if (url === undefined) return;
    const entry: SitemapEntry = { loc: url };
    if (lastmod) entry.lastmod = lastmod;
    if (changefreq) entry.changefreq = changefreq.toLowerCase();
    const value = Number(priority);
    if (priority && Number.isFinite(value)) entry.priority = value;
    this.entries.push(entry);
  }

  warnings(): string[] {
    const warnings = this.#locations.warnings();
    if (this.#truncated) warnings.push("the last entry is cut off by the end of the document");
    return warnings;
  }
}

/** Keeps http(s) locations and counts those of other schemes. */
class Locations {
  #dropped = 0;
  #first = "";

  /**
   * `loc` resolved against `base`; undefined (and counted) when it has a scheme other than
   * http(s). Without a base a relative location is kept as written.
   */
  accept(loc: string, base: string | undefined): string | undefined {
    const url = resolveUrl(loc, base);
    if (url !== undefined && (isHttpUrl(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url))) return url;
    if (this.#dropped++ === 0) this.#first = loc;
    return undefined;
  }

  warnings(): string[] {
    if (this.#dropped === 0) return [];
    const count = this.#dropped === 1 ? "1 location is" : `${this.#dropped} locations are`;
    return [`${count} not http(s) and left out (first: "${this.#first.slice(0, 100)}")`];
  }
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
  const locations = new Locations();
  let skipped = 0;
  for (const item of feed.entries) {
    // A feed entry without a link still names its page when its id is a URL.
    const page = item.link ?? (/^https?:\/\//i.test(item.id ?? "") ? item.id : undefined);
    if (!page) {
      skipped++;
      continue;
    }
    const loc = locations.accept(page, options.url);
    if (loc === undefined) continue;
    const lastmod = item.updated ?? item.published;
    entries.push(lastmod === undefined ? { loc } : { loc, lastmod });
  }
  return { kind: "feed", entries, skipped, warnings: [...feed.warnings, ...locations.warnings()] };
}

function parseTextSitemap(text: string, url: string | undefined): SitemapDocument {
  // In robots.txt a "#" starts a comment wherever it stands (RFC 9309).
  const lines = text.split(/\r?\n|\r/).map((line) => line.trim());
  const isRobots = lines.some((line) => /^(sitemap|user-agent|disallow|allow)\s*:/i.test(line));
  if (!isRobots) {
    const entries = lines.filter((line) => /^https?:\/\/\S+$/i.test(line)).map((loc) => ({ loc }));
    return { kind: "text", entries, skipped: 0, warnings: [] };
  }
  const seen = new Set<string>();
  const entries: SitemapEntry[] = [];
  const locations = new Locations();
  for (const line of lines) {
    const m = /^sitemap\s*:\s*(\S+)/i.exec(line.replace(/#.*$/, "").trim());
    const loc = m ? locations.accept(m[1], url) : undefined;
    if (loc && !seen.has(loc)) {
      seen.add(loc);
      entries.push({ loc });
    }
  }
  return { kind: "robots", entries, skipped: 0, warnings: locations.warnings() };
}
