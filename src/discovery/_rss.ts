/** RSS 0.9x, 1.0 (RDF) and 2.0 documents. */
import type { XmlElement } from "./_xml.ts";
import { attrOf, childElements, textOf } from "./_xml_read.ts";
import { collapse, htmlToText, resolveUrl } from "./_text.ts";
import { dayNumber } from "./_hints.ts";
import {
  addEnclosure,
  type DateCandidates,
  emptyEntry,
  enclosureOf,
  isItunes,
  nonEmpty,
  NS,
  readExtension,
  readItunes,
} from "./_feed_ext.ts";
import { finishDates, linkEnclosure, readAtomLink } from "./_atom.ts";
import type { FeedBody, FeedEntry } from "./_feed.ts";

/** Netscape's RSS 0.90 namespaces, as published and as often written without the last slash. */
const RSS090 = new Set([
  NS.rss090,
  NS.rss090channel,
  NS.rss090.slice(0, -1),
  NS.rss090channel.slice(0, -1),
]);

const RSS_NAMESPACES = [
  "",
  NS.rss10,
  ...RSS090,
  "http://backend.userland.com/rss",
  "http://backend.userland.com/rss2",
  "http://blogs.law.harvard.edu/tech/rss",
  "http://purl.org/net/rss1.1#",
];

/** Whether `root` is the root of an RSS document (`rss` or `rdf:RDF`). */
function isRssRoot(root: XmlElement): boolean {
  return root.local === "rss" || (root.local === "RDF" && root.ns === NS.rdf);
}

/** The namespaces of RSS elements under `root` (and its channel, if it has one). */
function coreOf(root: XmlElement, channel: XmlElement | undefined): Set<string> {
  const core = new Set([...RSS_NAMESPACES, root.ns]);
  if (channel) core.add(channel.ns);
  return core;
}

function channelOf(root: XmlElement, core: Set<string>): XmlElement | undefined {
  return childElements(root).find((el) => el.local === "channel" && core.has(el.ns));
}

/**
 * RSS items read as soon as each is complete (the `onElement` of parseXml), so the tree never
 * holds them: memory stays flat however many items a feed has.
 */
export class RssItems {
  readonly entries: FeedEntry[] = [];
  /** Namespace of the first item: it tells RSS 0.90 from 1.0 when there is no channel. */
  firstNs?: string;
  #cores = new Map<XmlElement, Set<string>>();

  /** Reads `el` when it is an item of an RSS document; true leaves it out of the tree. */
  take(el: XmlElement, ancestors: readonly XmlElement[]): boolean {
    if (el.local !== "item" || ancestors.length > 2 || !isRssRoot(ancestors[0])) return false;
    const root = ancestors[0];
    const parent = ancestors[ancestors.length - 1];
    let core = this.#cores.get(parent);
    if (!core) {
      const rootCore = coreOf(root, undefined);
      const channel = parent === root ? channelOf(root, rootCore) : parent;
      if (channel && !(channel.local === "channel" && rootCore.has(channel.ns))) return false;
      core = coreOf(root, channel);
      this.#cores.set(parent, core);
    }
    if (!core.has(el.ns)) return false;
    this.firstNs ??= el.ns;
    // An item the document ends inside may be cut anywhere: it is left out.
    if (!el.truncated) this.entries.push(readItem(el, core));
    return true;
  }
}

/** Read an RSS document whose items `items` took; undefined when the root is not RSS. */
export function parseRss(root: XmlElement, items: RssItems): FeedBody | undefined {
  if (!isRssRoot(root)) return undefined;
  const isRdf = root.local === "RDF";
  const core = coreOf(root, undefined);
  const channel = channelOf(root, core);
  if (channel) core.add(channel.ns);
  const body: FeedBody = {
    format: "rss",
    version: isRdf ? rdfVersion(root, channel, items.firstNs) : rssVersion(root),
    entries: items.entries,
  };
  if (channel) readChannel(body, channel, core);
  return body;
}

function rssVersion(root: XmlElement): string {
  const version = attrOf(root, "version")?.trim() ?? "";
  const known: Record<string, string> = {
    "0.91": "rss091",
    "0.92": "rss092",
    "0.93": "rss093",
    "0.94": "rss094",
    "2.0": "rss20",
    "2.0.1": "rss20",
  };
  return known[version] ?? (version.startsWith("2.") ? "rss20" : "rss");
}

function rdfVersion(
  root: XmlElement,
  channel: XmlElement | undefined,
  firstItemNs: string | undefined,
): string {
  const ns = channel?.ns ?? firstItemNs ?? root.scope[""];
  return RSS090.has(ns) ? "rss090" : "rss10";
}

function readChannel(body: FeedBody, channel: XmlElement, core: Set<string>): void {
  let alternate: string | undefined;
  let dcTitle: string | undefined;
  for (const el of childElements(channel)) {
    if (core.has(el.ns)) {
      const text = collapse(textOf(el));
      if (el.local === "title" && text) body.title = rssTitle(el) ?? body.title;
      else if (el.local === "link") {
        body.link = resolveUrl(text || attrOf(el, "href"), el.base) ?? body.link;
      } else if (el.local === "language" && text) body.language ??= text;
      else if (el.local === "image") body.image ??= imageUrl(el, core);
      else readSchedule(body, el, text);
    } else if (el.ns === NS.atom10 && el.local === "link") {
      const link = readAtomLink(el);
      if (link?.rel === "next") body.nextUrl ??= link.href;
      if (link?.rel === "alternate") alternate ??= link.href;
    } else if (el.ns === NS.dc && el.local === "title") {
      dcTitle ??= nonEmpty(collapse(textOf(el)));
    } else if (isItunes(el.ns)) {
      readItunes(body.itunes ??= {}, el);
    }
  }
  body.link ??= alternate;
  body.title ??= dcTitle;
}

/**
 * An RSS title as plain text: escaped markup in it ("List&lt;String&gt;") is text. Only a
 * title that says type="html" (as some feeds borrow from Atom) is read as HTML.
 */
function rssTitle(el: XmlElement): string | undefined {
  const type = attrOf(el, "type")?.trim().toLowerCase();
  const text = textOf(el);
  return nonEmpty(type === "html" || type === "text/html" ? htmlToText(text) : collapse(text));
}

/** `<ttl>`, `<skipHours>` and `<skipDays>`: when the channel asks to be read. */
function readSchedule(body: FeedBody, el: XmlElement, text: string): void {
  if (el.local === "ttl" && text) (body.schedule ??= {}).ttl = text;
  else if (el.local === "skipHours") {
    const hours = childElements(el, "hour").map((h) => Number(collapse(textOf(h))))
      .filter((h) => Number.isInteger(h) && h >= 0 && h <= 24).map((h) => h % 24);
    if (hours.length) (body.schedule ??= {}).skipHours = [...new Set(hours)].sort((a, b) => a - b);
  } else if (el.local === "skipDays") {
    const days = childElements(el, "day").map((d) => dayNumber(textOf(d)))
      .filter((d) => d !== undefined);
    if (days.length) (body.schedule ??= {}).skipDays = [...new Set(days)].sort((a, b) => a - b);
  }
}

function imageUrl(image: XmlElement, core: Set<string>): string | undefined {
  const url = childElements(image, "url", core)[0];
  return url ? resolveUrl(textOf(url), url.base) : undefined;
}

interface ItemState {
  guid?: string;
  permalink: boolean;
  dates: DateCandidates;
  alternate?: string;
}

function readItem(item: XmlElement, core: Set<string>): FeedEntry {
  const entry = emptyEntry();
  const state: ItemState = { permalink: false, dates: { published: [], updated: [] } };
  for (const el of childElements(item)) {
    if (core.has(el.ns)) readCoreField(entry, el, state);
    else if (el.ns === NS.atom10) readAtomInRss(entry, el, state);
    else readExtension(entry, el, state.dates);
  }
  entry.id = state.guid ?? nonEmpty(attrOf(item, "about", NS.rdf));
  entry.link ??= state.alternate;
  if (entry.link === undefined && state.permalink && /^https?:\/\//i.test(state.guid ?? "")) {
    entry.link = state.guid;
  }
  finishDates(entry, state.dates);
  return entry;
}

function readCoreField(entry: FeedEntry, el: XmlElement, state: ItemState): void {
  switch (el.local) {
    case "title":
      entry.title = rssTitle(el) ?? entry.title;
      break;
    case "link":
      entry.link = resolveUrl(textOf(el) || attrOf(el, "href"), el.base) ?? entry.link;
      break;
    case "guid":
      state.guid = nonEmpty(textOf(el)) ?? state.guid;
      state.permalink = attrOf(el, "isPermaLink")?.trim().toLowerCase() !== "false";
      break;
    case "pubDate":
      state.dates.published[0] = nonEmpty(textOf(el)) ?? state.dates.published[0];
      break;
    case "description":
      entry.summary = nonEmpty(textOf(el)) ?? entry.summary;
      break;
    case "author":
    case "category": {
      const text = collapse(textOf(el));
      if (text) (el.local === "author" ? entry.authors : entry.categories).push(text);
      break;
    }
    case "comments":
      entry.comments ??= resolveUrl(textOf(el), el.base);
      break;
    case "enclosure":
      addEnclosure(entry.enclosures, enclosureOf(el, "url", "length"));
  }
}

function readAtomInRss(entry: FeedEntry, el: XmlElement, state: ItemState): void {
  if (el.local === "link") {
    const link = readAtomLink(el);
    if (link?.rel === "alternate") state.alternate ??= link.href;
    else if (link?.rel === "enclosure" && attrOf(el, "href")?.trim()) {
      addEnclosure(entry.enclosures, linkEnclosure(link));
    }
  } else if (el.local === "published") state.dates.published[2] ??= nonEmpty(textOf(el));
  else if (el.local === "updated") state.dates.updated[1] ??= nonEmpty(textOf(el));
  else if (el.local === "author") {
    const name = childElements(el, "name")[0];
    if (name) entry.authors.push(collapse(textOf(name)));
  }
}
