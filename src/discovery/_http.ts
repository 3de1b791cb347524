/** HTTP for discovery: one request with timeout, retries, Retry-After, gzip and a size cap. */
import { BodyTooLarge, CorruptGzip, readBody } from "../util/body.ts";
import type { Logger } from "../util/log.ts";
import type { Clock } from "../util/time.ts";
import type { RefetchHint } from "./_hints.ts";
import { retryAfterMs } from "../util/retry_after.ts";
import type { HeldSource } from "./_holds.ts";
import { redactUrl } from "../util/url.ts";

/** Thrown when discovery cannot complete; the message names the URL or file and the problem. */
export class DiscoveryError extends Error {
  override name = "DiscoveryError";
  readonly url?: string;
  readonly status?: number;
  /** Headers of the HTTP error response, when there was one (rate-limit headers, Retry-After). */
  readonly headers?: Headers;
  /** When the failing source asks to be fetched again (Retry-After on 429 / 503), if it said. */
  refetch?: RefetchHint;
  /** Set when the URL was not requested because its source is held (backoff or asked wait). */
  held?: HeldSource;
  constructor(
    message: string,
    options: ErrorOptions & { url?: string; status?: number; headers?: Headers } = {},
  ) {
    super(message, { cause: options.cause });
    this.url = options.url;
    this.status = options.status;
    this.headers = options.headers;
  }
}

/** Returned by a conditional fetch when the server answered 304 Not Modified. */
export const NOT_MODIFIED: unique symbol = Symbol("not modified");
/** The type of NOT_MODIFIED. */
export type NotModified = typeof NOT_MODIFIED;

/** A successful response with its body read (and gunzipped) in full, within max_bytes. */
export interface HttpBody {
  /** The final URL after redirects; resolve relative links against it. */
  url: string;
  status: number;
  headers: Headers;
  contentType: string;
  bytes: Uint8Array;
}

/** How request() behaves; the defaults live in BaseDiscovery. */
export interface RequestOptions {
  headers: Headers;
  timeoutMs: number;
  /** Attempts after the first on network errors, timeouts, 429 and 5xx. */
  retries: number;
  /** Largest accepted body after decompression. */
  maxBytes: number;
  signal?: AbortSignal;
  /** Waits between attempts. */
  clock: Clock;
  log: Logger;
  /** Named in retry log lines. */
  jobId: string;
  /** Called with every response received (one per attempt), before its body is read. */
  onResponse?: (res: Response) => void;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A longer Retry-After is not waited for: the next discovery tries again. */
const RETRY_AFTER_MAX_MS = 5 * 60_000;

type RetryableError = DiscoveryError & { retryAfterMs?: number };

/** GETs `url`, retrying with exponential backoff and jitter; NOT_MODIFIED on 304. */
export async function request(url: string, opts: RequestOptions): Promise<HttpBody | NotModified> {
  for (let attempt = 0;; attempt++) {
    const outcome = await requestOnce(url, opts);
    if (!(outcome instanceof DiscoveryError)) return outcome;
    const retryable = outcome.status === undefined || outcome.status === 429 ||
      outcome.status >= 500;
    if (!retryable || attempt >= opts.retries) throw outcome;
    const waitMs = retryWait(outcome, attempt);
    if (waitMs > RETRY_AFTER_MAX_MS) {
      throw new DiscoveryError(
        `${outcome.message}; the server asked to retry after ${Math.round(waitMs / 1000)}s, ` +
          "so the next discovery will try again",
        { url: outcome.url, status: outcome.status, cause: outcome },
      );
    }
    opts.log.warn(`Retrying ${redactUrl(url)} in ${(waitMs / 1000).toFixed(1)}s`, {
      job: opts.jobId,
      reason: outcome.message,
      attempt: attempt + 2,
      of: opts.retries + 1,
    });
    await opts.clock.sleep(waitMs, opts.signal);
  }
}

/** One request; a failure is returned (not thrown) so the caller can decide to retry. */
async function requestOnce(
  url: string,
  opts: RequestOptions,
): Promise<HttpBody | NotModified | RetryableError> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const res = await fetch(url, { headers: opts.headers, signal });
    opts.onResponse?.(res);
    if (res.status === 304) {
      await res.body?.cancel();
      return NOT_MODIFIED;
    }
    if (!res.ok) {
      await res.body?.cancel();
      return httpError(url, res);
    }
    return await readResponse(url, res, opts.maxBytes);
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (err instanceof DiscoveryError) throw err;
    const reason = timeout.aborted
      ? `timed out after ${opts.timeoutMs / 1000}s`
      : err instanceof Error
      ? err.message
      : String(err);
    return new DiscoveryError(`Cannot fetch ${redactUrl(url)}: ${reason}`, {
      url: redactUrl(url),
      cause: err,
    });
  }
}

async function readResponse(url: string, res: Response, max: number): Promise<HttpBody> {
  const where = redactUrl(url);
  const tooLarge = (decompressed: boolean): DiscoveryError =>
    new DiscoveryError(
      `Response from ${where} ${
        decompressed ? "decompresses to more than" : "is larger than"
      } max_bytes (${max} bytes)`,
      { url: where, status: res.status },
    );
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > max && !res.headers.get("content-encoding")) {
    await res.body?.cancel();
    throw tooLarge(false);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBody(res.body, { maxBytes: max });
  } catch (err) {
    if (err instanceof BodyTooLarge) throw tooLarge(err.decompressed);
    if (!(err instanceof CorruptGzip)) throw err;
    throw new DiscoveryError(`Cannot decompress gzip body from ${where}: ${err.message}`, {
      url: where,
      cause: err,
    });
  }
  const contentType = res.headers.get("content-type") ?? "";
  return { url: res.url || url, status: res.status, headers: res.headers, contentType, bytes };
}

/** The `rel="next"` target of a Link header, resolved against `baseUrl`; undefined when absent. */
export function nextLink(headers: Headers, baseUrl: string): string | undefined {
  const link = headers.get("link");
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    const rel = match && /;\s*rel="?([^";]*)"?/i.exec(match[2])?.[1];
    if (match && rel?.toLowerCase().split(/\s+/).includes("next")) {
      return new URL(match[1], baseUrl).href;
    }
  }
  return undefined;
}

function httpError(url: string, res: Response): RetryableError {
  const error: RetryableError = new DiscoveryError(
    `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""} from ${redactUrl(url)}`,
    { url: redactUrl(url), status: res.status, headers: res.headers },
  );
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter !== null) error.retryAfterMs = retryAfterMs(retryAfter, Date.now());
  return error;
}

function retryWait(error: RetryableError, attempt: number): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(exponential * (0.5 + Math.random() * 0.5));
}

/** `bytes` decoded with the Content-Type charset (default UTF-8); the error names the URL. */
export function decodeText(bytes: Uint8Array, contentType: string, url: string): string {
  const charset = /charset=["']?([\w.:-]+)/i.exec(contentType)?.[1] ?? "utf-8";
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch (err) {
    throw new DiscoveryError(`Cannot decode ${redactUrl(url)} as "${charset}"`, {
      url: redactUrl(url),
      cause: err,
    });
  }
}
