/** URL identity: the one normalisation and hash behind item keys of URL-only items. */
import { createHash } from "node:crypto";

/**
 * The one URL hash: normalise (lower-case scheme and host, no default port or
 * fragment, no utm_* / fbclid / gclid, sorted query, path case kept), MD5, first 16 hex.
 */
export function hashUrl(url: string): string {
  return createHash("md5").update(normalizeUrl(url)).digest("hex").slice(0, 16);
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
  const search = parsed.search;
  if (href.includes("?") && !isNormalQuery(search)) {
    const params = [...parsed.searchParams].filter(([name]) => !isTrackingParam(name));
    params.sort(([a, av], [b, bv]) => a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0);
    const query = params.length ? new URLSearchParams(params).toString() : "";
    // Form encoding writes nothing the URL parser would escape, so the query is appended as is.
    const bare = href.slice(0, href.length - (search === "" ? 1 : search.length));
    href = query ? `${bare}?${query}` : bare;
  }
  return href.includes("%")
    ? href.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
    : href;
}

/** Characters that form encoding writes as they are. */
const PLAIN_QUERY = /^\?[A-Za-z0-9*._-]+=[A-Za-z0-9*._-]*(?:&[A-Za-z0-9*._-]+=[A-Za-z0-9*._-]*)*$/;

/**
 * Whether `search` is already what the normalisation would write: name=value pairs of plain
 * characters, sorted, without tracking parameters.
 */
function isNormalQuery(search: string): boolean {
  if (!PLAIN_QUERY.test(search)) return false;
  let previous: [string, string] | undefined;
  for (const pair of search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    const param: [string, string] = [pair.slice(0, eq), pair.slice(eq + 1)];
    if (isTrackingParam(param[0])) return false;
    if (
      previous && (previous[0] > param[0] || (previous[0] === param[0] && previous[1] > param[1]))
    ) {
      return false;
    }
    previous = param;
  }
  return true;
}

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("utm_") || lower === "fbclid" || lower === "gclid";
}
