/** Namespaced extensions shared by RSS and Atom entries: Dublin Core, content, iTunes, Media RSS … */
import type { XmlElement } from "./_xml.ts";
import { attrOf, textOf } from "./_xml_read.ts";
import { collapse, htmlToText, isHttpUrl, resolveUrl } from "./_text.ts";
import type { Enclosure, FeedEntry, ItunesFields, MediaFields } from "./_feed.ts";

/** Namespace URIs the feed parsers recognise. */
export const NS = {
  atom10: "http://www.w3.org/2005/Atom",
  atom03: "http://purl.org/atom/ns#",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  rss10: "http://purl.org/rss/1.0/",
  rss090: "http://my.netscape.com/rdf/simple/0.9/",
  rss090channel: "http://channel.netscape.com/rdf/simple/0.9/",
  dc: "http://purl.org/dc/elements/1.1/",
  dcterms: "http://purl.org/dc/terms/",
  content: "http://purl.org/rss/1.0/modules/content/",
  yt: "http://www.youtube.com/xml/schemas/2015",
  arxiv: "http://arxiv.org/schemas/atom",
  opensearch: "http://a9.com/-/spec/opensearch/1.1/",
} as const;

const ITUNES = new Set([
  "http://www.itunes.com/dtds/podcast-1.0.dtd",
  "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
  "http://www.itunes.com/DTDs/PodCast-1.0.dtd",
]);
const MEDIA = new Set(["http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"]);
const EXTRA_PREFIXES: Record<string, string> = {
  [NS.yt]: "yt",
  [NS.arxiv]: "arxiv",
  [NS.opensearch]: "opensearch",
};

/** Whether `ns` is one of the iTunes podcast namespace spellings. */
export function isItunes(ns: string): boolean {
  return ITUNES.has(ns);
}

/** Raw date strings met while reading an entry, by source element, in priority order. */
export interface DateCandidates {
  published: (string | undefined)[];
  updated: (string | undefined)[];
}

/** Read one namespaced child of an entry into `entry`; false when the namespace is not handled. */
export function readExtension(entry: FeedEntry, el: XmlElement, dates: DateCandidates): boolean {
  if (el.ns === NS.dc) readDublinCore(entry, el, dates);
  else if (el.ns === NS.dcterms) readDcTerms(el, dates);
  else if (el.ns === NS.content) {
    if (el.local === "encoded") entry.content ??= nonEmpty(textOf(el));
  } else if (ITUNES.has(el.ns)) readItunes(entry.itunes ??= {}, el);
  else if (MEDIA.has(el.ns)) readMedia(entry, el);
  else if (EXTRA_PREFIXES[el.ns] !== undefined) readExtra(entry, el);
  else return false;
  return true;
}

function readDublinCore(entry: FeedEntry, el: XmlElement, dates: DateCandidates): void {
  const text = collapse(textOf(el));
  if (text === "") return;
  if (el.local === "title") entry.title ??= text;
  else if (el.local === "date") {
    dates.published[3] ??= text;
    dates.updated[2] ??= text;
  } else if (el.local === "creator") entry.authors.push(text);
  else if (el.local === "subject") entry.categories.push(text);
  else if (el.local === "description") entry.summary ??= text;
}

function readDcTerms(el: XmlElement, dates: DateCandidates): void {
  const text = collapse(textOf(el));
  if (text === "") return;
  if (el.local === "issued") dates.published[1] ??= text;
  else if (el.local === "created") dates.published[4] ??= text;
  else if (el.local === "modified") dates.updated[0] ??= text;
}

/** Read an `itunes:*` element into `fields` (shared by channels and items). */
export function readItunes(fields: ItunesFields, el: XmlElement): void {
  const text = collapse(textOf(el));
  switch (el.local) {
    case "duration":
      fields.duration ??= parseDuration(text);
      break;
    case "episode":
    case "season": {
      const n = Number.parseInt(text, 10);
      if (Number.isFinite(n)) fields[el.local] ??= n;
      break;
    }
    case "image": {
      // Some feeds put the URL in the text; others put junk there.
      const href = attrOf(el, "href") ?? (/^https?:\/\//i.test(text) ? text : undefined);
      fields.image ??= resolveUrl(href, el.base);
      break;
    }
    case "explicit":
      fields.explicit ??= parseExplicit(text);
      break;
    case "category": {
      const name = attrOf(el, "text");
      if (name) (fields.categories ??= []).push(name);
      break;
    }
    case "episodeType":
    case "title":
    case "subtitle":
    case "summary":
    case "author":
      if (text !== "") fields[el.local] ??= text;
  }
}

/** Seconds of an iTunes duration: "3600", "59:59" or "1:02:03". */
function parseDuration(text: string): number | undefined {
  if (!/^\d+(?::\d{1,2}){0,2}(?:\.\d+)?$/.test(text)) return undefined;
  return Math.round(text.split(":").reduce((total, part) => total * 60 + Number(part), 0));
}

function parseExplicit(text: string): boolean | undefined {
  const value = text.toLowerCase();
  if (value === "yes" || value === "true" || value === "explicit") return true;
  if (value === "no" || value === "false" || value === "clean") return false;
  return undefined;
}

function readMedia(entry: FeedEntry, el: XmlElement): void {
  const media: MediaFields = entry.media ??= { content: [] };
  switch (el.local) {
    case "group":
      for (const child of el.children) {
        if (typeof child !== "string" && MEDIA.has(child.ns)) readMedia(entry, child);
      }
      break;
    case "content": {
      const enclosure = enclosureOf(el, "url", "fileSize");
      if (enclosure) media.content.push(enclosure);
      break;
    }
    case "thumbnail":
      media.thumbnail ??= resolveUrl(attrOf(el, "url"), el.base);
      break;
    case "title":
      // Media RSS titles are plain text unless they say type="html".
      media.title ??= nonEmpty(
        attrOf(el, "type")?.trim().toLowerCase() === "html"
          ? htmlToText(textOf(el))
          : collapse(textOf(el)),
      );
      break;
    case "description":
      media.description ??= nonEmpty(textOf(el).trim());
      break;
    case "community":
      readMediaViews(media, el);
  }
}

function readMediaViews(media: MediaFields, el: XmlElement): void {
  for (const child of el.children) {
    if (typeof child === "string" || child.local !== "statistics") continue;
    const views = Number(attrOf(child, "views"));
    if (Number.isFinite(views)) media.views = views;
  }
}

function readExtra(entry: FeedEntry, el: XmlElement): void {
  const key = `${EXTRA_PREFIXES[el.ns]}:${el.local}`;
  const value = collapse(textOf(el)) || attrOf(el, "term") || attrOf(el, "href") || "";
  if (value === "") return;
  const extra = entry.extra ??= {};
  extra[key] ??= value;
}

/** An enclosure from an element's URL and size attributes, resolved against its base. */
export function enclosureOf(
  el: XmlElement,
  urlAttr: string,
  sizeAttr: string,
): Enclosure | undefined {
  const url = resolveUrl(attrOf(el, urlAttr), el.base);
  if (!url) return undefined;
  const enclosure: Enclosure = { url };
  const type = attrOf(el, "type")?.trim();
  if (type) enclosure.type = type;
  const length = Number.parseInt(attrOf(el, sizeAttr) ?? "", 10);
  if (Number.isFinite(length) && length >= 0) enclosure.length = length;
  return enclosure;
}

/** Append `enclosure` unless one with the same URL is already there. */
export function addEnclosure(list: Enclosure[], enclosure: Enclosure | undefined): void {
  if (enclosure && !list.some((e) => e.url === enclosure.url)) list.push(enclosure);
}

/** `text` trimmed, or undefined when that leaves nothing. */
export function nonEmpty(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** A fresh entry with empty lists. */
export function emptyEntry(): FeedEntry {
  return { authors: [], categories: [], enclosures: [] };
}

/**
 * An episode's media file: its first audio or video enclosure, else any enclosure or
 * media:content; only http(s) files count.
 */
export function episodeMedia(entry: FeedEntry): Enclosure | undefined {
  const candidates = [...entry.enclosures, ...(entry.media?.content ?? [])]
    .filter((e) => isHttpUrl(e.url));
  return candidates.find((e) => /^(audio|video)\//i.test(e.type ?? "")) ?? candidates[0];
}
