/** The types a discovery strategy and the program around it exchange. */
import type { HttpCacheEntry, Store } from "../db/store.ts";
import type { Logger } from "../util/log.ts";
import type { FailedSource } from "./_findings.ts";
import type { RefetchHint } from "./_hints.ts";
import type { SourceGate } from "./_holds.ts";
import type { HttpBody } from "./_http.ts";
import type { Clock } from "../util/time.ts";

/** What a strategy needs from the program around it. */
export interface DiscoveryEnv {
  db: Store;
  jobId: string;
  /** Folder of jobs.yaml; relative file paths in options resolve against it. */
  configDir: string;
  /** Aborts every request and wait in progress. */
  signal?: AbortSignal;
  log: Logger;
  /** Date in ms for filters and refetch hints; default Date.now. */
  now?: () => number;
  /** Times the `rate` slots and every wait (retries, page delays); default monotonicClock. */
  clock?: Clock;
  /** User-Agent of every request; default "jobctl/VERSION". */
  userAgent?: string;
  /**
   * Send stored validators (ETag / Last-Modified, a local file's digest) and return the new
   * ones for the caller to store; default true (false for dry and test runs).
   */
  useHttpCache?: boolean;
  /** Digest of the job's discovery and jobctl's version; validators of others are not used. */
  optionsHash?: string;
  /** Leaves held sources alone and learns what each fetch came to; none: every URL is read. */
  gate?: SourceGate;
}

/** One discovered work item: its identity and its data. */
export interface DiscoveredItem {
  key: string;
  data: Record<string, unknown>;
}

/**
 * The items a discovery found, in order, keyed, filtered and without repeated keys. Iterating
 * them reads them again from the strategy's raw items: a large file's records are made one at
 * a time, not held as objects all at once.
 */
export interface DiscoveredItems extends Iterable<DiscoveredItem> {
  /** How many there are. */
  readonly length: number;
}

/** What discover() returns; `notModified` means every source was unchanged. */
export interface DiscoveryResult {
  items: DiscoveredItems;
  notModified: boolean;
  /**
   * What the sources said this time, to store once the items are recorded: stored before, a
   * crash in between would leave the items unrecorded and the next discovery told "unchanged".
   */
  validators: HttpCacheEntry[];
  /**
   * Problems that did not stop the discovery, one line each naming the URL or file: documents
   * read in spite of malformed XML, skipped child sitemaps, links that are not http(s).
   */
  warnings: string[];
  /** Per fetched URL that said so, the earliest time to fetch it again and the rules why. */
  refetch: RefetchHint[];
  /** Sources that failed without failing the discovery, e.g. a broken child sitemap. */
  failed: FailedSource[];
}

/** An item as a strategy finds it, before keys, filters and limits are applied. */
export interface RawItem {
  /** The strategy's natural id (guid, file path, record id). */
  key?: string;
  /** Hashed into the key when there is no natural id; copied into data as `url`. */
  url?: string;
  /** Compared with `since`; items without a date always pass. */
  date?: string | number | Date;
  data: Record<string, unknown>;
}

/** Options of one fetch call. */
export interface FetchOptions {
  /** Headers added to the configured ones (e.g. Accept, Authorization). */
  headers?: Record<string, string>;
  /** Send If-None-Match / If-Modified-Since the job stored and return NOT_MODIFIED on 304. */
  conditional?: boolean;
}

/** A response body decoded as text (charset from Content-Type, default UTF-8). */
export interface TextBody extends HttpBody {
  text: string;
}

/** A response body parsed as JSON. */
export interface JsonBody extends HttpBody {
  json: unknown;
}

/** A file or URL read in full by readLocalOrUrl(). */
export interface LocalOrUrlBody {
  /** The URL or absolute file path that was read. */
  source: string;
  bytes: Uint8Array;
}
