/** Feed parsing for the feed strategies: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed, auto-detected. */
import { decodeDocument } from "./_decode.ts";
import { parseXml, XmlError } from "./_xml.ts";
import { parseRss, RssItems } from "./_rss.ts";
import { AtomEntries, parseAtom } from "./_atom.ts";
import { parseJsonFeed } from "./_jsonfeed.ts";
import type { FeedSchedule } from "./_hints.ts";

/** A media file attached to an entry. */
export interface Enclosure {
  url: string;
  type?: string;
  /** Size in bytes, when the document gives a number. */
  length?: number;
}

/** A link of an Atom entry. */
export interface FeedLink {
  href: string;
  rel: string;
  type?: string;
  title?: string;
}

/** iTunes podcast fields of a feed or an episode. */
export interface ItunesFields {
  /** Duration in seconds. */
  duration?: number;
  episode?: number;
  season?: number;
  episodeType?: string;
  image?: string;
  explicit?: boolean;
  title?: string;
  subtitle?: string;
  summary?: string;
  author?: string;
  categories?: string[];
}

/** Media RSS fields (`media:*`), also used by YouTube feeds. */
export interface MediaFields {
  title?: string;
  description?: string;
  thumbnail?: string;
  content: Enclosure[];
  views?: number;
}

/** One entry of a feed, whatever its format. Dates are ISO 8601 UTC strings. */
export interface FeedEntry {
  /** RSS guid, Atom id, RSS 1.0 rdf:about or JSON Feed id, as written (relative Atom ids resolved). */
  id?: string;
  /** The entry's web page, resolved against xml:base / the document URL. */
  link?: string;
  links?: FeedLink[];
  /** Plain text: markup removed, entities decoded, whitespace collapsed. */
  title?: string;
  summary?: string;
  content?: string;
  published?: string;
  updated?: string;
  authors: string[];
  categories: string[];
  enclosures: Enclosure[];
  comments?: string;
  image?: string;
  itunes?: ItunesFields;
  media?: MediaFields;
  /** Namespaced fields that no common field holds (yt:videoId, arxiv:doi …), by "prefix:name". */
  extra?: Record<string, string>;
}

/** Feed formats `parseFeed()` recognises. */
export type FeedFormat = "rss" | "atom" | "json";

/** A parsed feed. */
export interface Feed {
  format: FeedFormat;
  /** rss090, rss091, rss092, rss093, rss094, rss10, rss20, rss, atom03, atom10, json10, json11. */
  version: string;
  title?: string;
  link?: string;
  language?: string;
  image?: string;
  itunes?: ItunesFields;
  /** URL of the next page (Atom `rel="next"`, JSON Feed `next_url`). */
  nextUrl?: string;
  entries: FeedEntry[];
  /** Text encoding the bytes were read with. */
  encoding: string;
  /** Problems that did not stop parsing (undeclared prefixes, bad bytes). */
  warnings: string[];
  /** Namespaced feed-level values (opensearch:totalResults …), by "prefix:name". */
  extra?: Record<string, string>;
  /** RSS `<ttl>`, `<skipHours>` and `<skipDays>`: when the feed asks to be read. */
  schedule?: FeedSchedule;
}

/** The parts of a feed a format parser produces. */
export type FeedBody = Omit<Feed, "encoding" | "warnings">;

/** Options of `parseFeed()`. */
export interface ParseFeedOptions {
  /** The document's URL; relative links resolve against it. Default none. */
  url?: string;
  /** The HTTP Content-Type header (its charset is used). Default none. */
  contentType?: string;
  /** The HTTP Content-Location header; when given, the base for relative links. Default none. */
  contentLocation?: string;
}

/** A document that is not a feed, or a feed that cannot be read. */
export class FeedError extends Error {
  override name = "FeedError";
}

/**
 * Parse a feed document (bytes or text), detecting its format from the content. Malformed XML
 * is read as feed readers read it, with a warning per problem; a malformed document whose root
 * holds no element at all is refused.
 */
export function parseFeed(input: Uint8Array | string, options: ParseFeedOptions = {}): Feed {
  const decoded = typeof input === "string"
    ? { text: input, encoding: "utf-8", warnings: [] }
    : decodeDocument(input, { contentType: options.contentType });
  const text = decoded.text.replace(/^[\ufeff\s]+/, "");
  if (text === "") throw new FeedError("empty document");
  const base = baseUrl(options);
  if (text.startsWith("{") || text.startsWith("[")) {
    return finish(parseJsonFeed(text, base), decoded.encoding, decoded.warnings);
  }
  if (!text.startsWith("<")) {
    throw new FeedError("not a feed: the document is neither XML nor JSON");
  }
  // Entries are read as they complete and left out of the tree.
  const items = new RssItems();
  const entries = new AtomEntries();
  let doc;
  try {
    doc = parseXml(decoded.text, {
      baseUrl: base,
      onElement: (el, ancestors) => items.take(el, ancestors) || entries.take(el, ancestors),
    });
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    throw new FeedError(`not well-formed XML: ${err.message}`);
  }
  const body = parseRss(doc.root, items) ?? parseAtom(doc.root, entries);
  if (!body) throw new FeedError(notAFeed(doc.root.local));
  const empty = body.entries.length === 0 &&
    !doc.root.children.some((child) => typeof child !== "string");
  if (doc.warnings.length && empty) {
    throw new FeedError(`not well-formed XML: ${doc.warnings[0]}; nothing could be read`);
  }
  return finish(body, decoded.encoding, [...decoded.warnings, ...doc.warnings]);
}

/** The feed with its encoding and warnings, and no keys holding `undefined`. */
function finish(body: FeedBody, encoding: string, warnings: string[]): Feed {
  for (const entry of body.entries) dropUndefined(entry);
  return dropUndefined({ ...body, encoding, warnings });
}

function dropUndefined<T extends object>(value: T): T {
  for (const key in value) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

function notAFeed(rootName: string): string {
  if (rootName.toLowerCase() === "html") return "not a feed: the document is an HTML page";
  return `not a feed: unexpected root element "${rootName}"`;
}

function baseUrl(options: ParseFeedOptions): string | undefined {
  const { url, contentLocation } = options;
  if (!contentLocation) return url;
  try {
    return new URL(contentLocation, url).href;
  } catch {
    return url;
  }
}
