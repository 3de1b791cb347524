/** The builtin "fetch" handler: GET an item's URL and keep the response. */
import { BodyTooLarge, CorruptGzip, readBody } from "../util/body.ts";
import { PermanentError } from "../util/errors.ts";
import { RetryLaterError } from "./outcome.ts";
import type { PacedFetch } from "./paced_fetch.ts";
import { retryAfterMs } from "../util/retry_after.ts";

/** What the fetch handler stores as its result. */
export interface FetchResult {
  url: string;
  status: number;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
  body: string;
}

const DEFAULT_MAX_BYTES = 5_000_000;

/**
 * Fetches `item.data[options.url_field ?? "url"]` with the paced ctx.fetch. 429 and 5xx are
 * retried later (honouring Retry-After); other 4xx fail at once. A gzip body is decompressed
 * as it arrives; the body, before and after, is bounded by `max_bytes` (default 5,000,000).
 */
export async function builtinFetch(
  item: { key: string; data: Record<string, unknown> },
  ctx: { fetch: PacedFetch; signal: AbortSignal },
  options: Record<string, unknown>,
): Promise<FetchResult> {
  const field = typeof options.url_field === "string" ? options.url_field : "url";
  const url = item.data[field];
  if (typeof url !== "string") {
    throw new PermanentError(`Item "${item.key}" has no "${field}" string to fetch`);
  }
  const headers = (options.headers ?? {}) as Record<string, string>;
  const response = await ctx.fetch(url, { headers, signal: ctx.signal });
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    throw new RetryLaterError(
      `GET ${url} answered ${response.status}`,
      retryAfterMs(response.headers.get("retry-after"), Date.now()),
    );
  }
  if (response.status >= 400) {
    await response.body?.cancel();
    throw new PermanentError(`GET ${url} answered ${response.status}`);
  }
  const maxBytes = typeof options.max_bytes === "number" ? options.max_bytes : DEFAULT_MAX_BYTES;
  return {
    url: response.url || url,
    status: response.status,
    contentType: response.headers.get("content-type"),
    etag: response.headers.get("etag"),
    lastModified: response.headers.get("last-modified"),
    body: await readLimited(response, url, maxBytes),
  };
}

async function readLimited(response: Response, url: string, maxBytes: number): Promise<string> {
  try {
    return new TextDecoder().decode(await readBody(response.body, { maxBytes }));
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      const what = err.decompressed ? "decompresses to more than" : "is larger than";
      throw new PermanentError(`GET ${url}: response ${what} ${maxBytes} bytes`);
    }
    if (err instanceof CorruptGzip) {
      throw new PermanentError(`GET ${url}: cannot decompress the gzip body: ${err.message}`);
    }
    throw err;
  }
}
