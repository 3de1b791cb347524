/** The builtin "fetch" handler: GET an item's URL and keep the response. */
import { PermanentError } from "../util/errors.ts";
import { RetryLaterError } from "./outcome.ts";
import { type PacedFetch, retryAfterMs } from "./paced_fetch.ts";

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
 * retried later (honouring Retry-After); other 4xx fail at once.
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
      retryAfterMs(response.headers.get("retry-after")),
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
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body?.cancel();
      throw new PermanentError(`GET ${url}: response is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder().decode(bytes);
}
