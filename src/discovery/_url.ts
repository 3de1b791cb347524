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
  parsed.hash = "";
  // Most URLs have no query and no escapes; skipping that work keeps discovery of large
  // sitemaps and feeds cheap.
  if (parsed.href.includes("?")) {
    const params = [...parsed.searchParams].filter(([name]) => !isTrackingParam(name));
    params.sort(([a, av], [b, bv]) => a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0);
    parsed.search = params.length ? new URLSearchParams(params).toString() : "";
  }
  const href = parsed.href;
  return href.includes("%")
    ? href.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase())
    : href;
}

function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("utm_") || lower === "fbclid" || lower === "gclid";
}
