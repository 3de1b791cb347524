/** URL identity: the one normalisation and hash behind item keys of URL-only items. */
import { hash } from "node:crypto";

/**
 * The one URL hash: normalise (lower-case scheme and host, no default port or
 * fragment, no utm_* / fbclid / gclid, sorted query, path case kept), MD5, first 16 hex.
 */
export function hashUrl(url: string): string {
  return hash("md5", normalizeUrl(url), "hex").slice(0, 16);
}

/** The normalised form of `url` that hashUrl() hashes; an unparsable URL is only trimmed. */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return url.trim();
  }
  if (url.includes("#")) parsed.hash = "";
  // Most URLs have no query and no escapes, or a query already in its normal form; skipping
  // that work keeps discovery of large sitemaps and feeds cheap.
  let href = parsed.href;
  if (href.includes("?")) {
    const search = parsed.search;
    const query = plainQuery(search) ?? formQuery(parsed.searchParams);
    if (search === "" || query !== search.slice(1)) {
      // Form encoding writes nothing the URL parser would escape: the query is appended as is.
      const bare = href.slice(0, href.length - (search === "" ? 1 : search.length));
      href = query ? `${bare}?${query}` : bare;
    }
  }
  return href.includes("%")
    ? href.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
    : href;
}

/** The query without tracking parameters, sorted by name then value, form-encoded. */
function formQuery(searchParams: URLSearchParams): string {
  const params = [...searchParams].filter(([name]) => !isTrackingParam(name));
  params.sort(compareParams);
  return params.length ? new URLSearchParams(params).toString() : "";
}

function compareParams([a, av]: [string, string], [b, bv]: [string, string]): number {
  return a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0;
}

/** Characters that form encoding writes as they are. */
const PLAIN_QUERY = /^\?[A-Za-z0-9*._-]+=[A-Za-z0-9*._-]*(?:&[A-Za-z0-9*._-]+=[A-Za-z0-9*._-]*)*$/;

/**
 * What formQuery() gives for a query of name=value pairs of plain characters, which form
 * encoding leaves as they are, without building URLSearchParams; undefined for other queries.
 */
function plainQuery(search: string): string | undefined {
  if (!PLAIN_QUERY.test(search)) return undefined;
  const params: [string, string][] = [];
  let ordered = true;
  for (const pair of search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    const param: [string, string] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (isTrackingParam(param[0])) ordered = false;
    else {
      if (params.length && compareParams(params[params.length - 1], param) > 0) ordered = false;
      params.push(param);
    }
  }
  // Most queries are already in order: they are their own normal form.
  if (ordered) return search.slice(1);
  params.sort(compareParams);
  return params.map(([name, value]) => `${name}=${value}`).join("&");
}

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("utm_") || lower === "fbclid" || lower === "gclid";
}
