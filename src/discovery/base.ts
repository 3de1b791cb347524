/**
 * BaseDiscovery: what every strategy shares. A strategy implements only fetchItems(); HTTP
 * (timeouts, retries, Retry-After, gzip, size cap: _http.ts), conditional requests, item keys
 * and filters live here once.
 */
import type { HttpCacheEntry } from "../db/store.ts";
import { resolve } from "node:path";
import { parseDuration, parseRate } from "../util/units.ts";

import { PROGRAM, VERSION } from "../version.ts";
import {
  decodeText,
  DiscoveryError,
  type HttpBody,
  NOT_MODIFIED,
  type NotModified,
  request,
} from "./_http.ts";
import { Pacer } from "../runner/pacer.ts";
import { type Clock, monotonicClock } from "../util/time.ts";
import { Findings } from "./_findings.ts";
import type { FeedSchedule } from "./_hints.ts";
import { heldError, heldMessage, SourceTally } from "./_tally.ts";
import { type CommonOptions, parseSize } from "./_options.ts";
import { dotPath, itemFilter, keyedItems } from "./_items.ts";
import { hashUrl } from "./_url.ts";
import { digest } from "../util/digest.ts";
import { digestLocalFile, readLocalFile } from "./_local_file.ts";

export { hashUrl, normalizeUrl } from "./_url.ts";
export { dotPath, recordItem } from "./_items.ts";
export type {
  DiscoveredItem,
  DiscoveredItems,
  DiscoveryEnv,
  DiscoveryResult,
  FetchOptions,
  JsonBody,
  LocalOrUrlBody,
  RawItem,
  TextBody,
} from "./_types.ts";
import { redactUrl } from "../util/url.ts";
import type {
  DiscoveredItems,
  DiscoveryEnv,
  DiscoveryResult,
  FetchOptions,
  JsonBody,
  LocalOrUrlBody,
  RawItem,
  TextBody,
} from "./_types.ts";
export type { FailedSource } from "./_findings.ts";
export type { FeedSchedule, RefetchHint, RefetchRule } from "./_hints.ts";
export {
  DiscoveryError,
  type HttpBody,
  nextLink,
  NOT_MODIFIED,
  type NotModified,
} from "./_http.ts";
export {
  type CommonOptions,
  commonOptions,
  durationString,
  exactlyOne,
  fileOrUrlOptions,
  httpOptions,
  httpUrl,
  itemOptions,
  parseSize,
  rateString,
  regexString,
  requireSource,
  sourceOptions,
} from "./_options.ts";

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Shared machinery of every discovery strategy; subclasses implement fetchItems(). */
export abstract class BaseDiscovery<O extends CommonOptions = CommonOptions> {
  #requests = 0;
  #notModified = 0;
  #pendingCache: HttpCacheEntry[] = [];
  #findings = new Findings();
  #tally = new SourceTally();
  /** Spaces the requests of this discovery under the `rate` option. */
  readonly #pacer: Pacer;

  constructor(protected readonly options: O, protected readonly env: DiscoveryEnv) {
    this.#pacer = new Pacer(this.#clock);
  }

  /**
   * Finds the raw items; the only method a strategy implements. An array, or for a large file
   * an iterable that reads its records again each time it is iterated (see keyedItems()).
   */
  abstract fetchItems(): Promise<Iterable<RawItem>>;

  /** Runs fetchItems() and normalises its items; the validators are for the caller to store. */
  async discover(): Promise<DiscoveryResult> {
    this.#requests = 0;
    this.#notModified = 0;
    this.#pendingCache = [];
    this.#findings = new Findings();
    this.#tally = new SourceTally();
    let raw: Iterable<RawItem>;
    try {
      raw = await this.fetchItems();
    } catch (err) {
      if (err instanceof DiscoveryError && err.url) this.#tally.failed(err.url, err);
      throw err;
    } finally {
      const now = this.now();
      if (!this.env.signal?.aborted) {
        this.#tally.report(this.env.gate, (url) => this.#findings.hintFor(url, now));
      }
    }
    const notModified = this.#requests > 0 && this.#notModified === this.#requests;
    return {
      items: this.normalize(notModified ? [] : raw),
      notModified,
      validators: this.#pendingCache,
      warnings: this.#findings.allWarnings(),
      refetch: this.#findings.hints(this.now()),
      failed: this.#findings.failed,
    };
  }

  /** Logs a warning and returns it with the result; `message` names the URL or file. */
  protected warn(message: string): void {
    if (this.#findings.warn(message)) this.env.log.warn(message, { job: this.env.jobId });
  }

  /** Records a source that failed while the discovery goes on, and warns about it. */
  protected sourceFailed(url: string, error: DiscoveryError): void {
    this.#findings.failed.push({ url, status: error.status, error: error.message });
    this.#tally.failed(url, error);
    this.warn(error.message);
  }

  /** Whether `url` is held: counted as not modified when conditional, else a DiscoveryError. */
  #checkHeld(url: string, conditional: boolean): boolean {
    const held = this.env.gate?.held(url);
    if (!held) return false;
    if (!conditional) throw heldError(held);
    this.env.log.info(heldMessage(held), { job: this.env.jobId });
    this.#requests++;
    this.#notModified++;
    return true;
  }

  /** Records a feed's ttl / skipHours / skipDays for `url` (the URL as requested). */
  protected noteSchedule(url: string, schedule: FeedSchedule | undefined): void {
    if (schedule) this.#findings.noteSchedule(url, schedule, this.now());
  }

  /**
   * Keys, de-duplicates and filters raw items (since, include, exclude, limit) in one pass that
   * keeps only the keys, and warns about items it leaves out; the items are made as they are read.
   * Keys are taken as the store keeps them (a lone surrogate becomes U+FFFD), so that no key
   * comes twice in what the store is given.
   */
  protected normalize(raw: Iterable<RawItem>): DiscoveredItems {
    if ((raw[Symbol.iterator]() as unknown) === raw) {
      throw new Error("fetchItems() returned a one-pass iterator; its items are read twice");
    }
    const keep = itemFilter(this.options, this.now());
    const limit = this.options.limit ?? Infinity;
    const seen = new Set<string>();
    const keys: (string | undefined)[] = [];
    for (const item of raw) {
      if (seen.size >= limit) break;
      const key = this.#keyOf(item, keys.length)?.toWellFormed();
      const kept = key !== undefined && !seen.has(key) && keep(item, key);
      if (kept) seen.add(key);
      keys.push(kept ? key : undefined);
    }
    return keyedItems(raw, keys, seen.size);
  }

  /** The configured `url` or `urls`, in order. */
  protected sourceUrls(): string[] {
    const { url, urls } = this.options;
    return urls ?? (url === undefined ? [] : [url]);
  }

  /** Resolves after `ms` (at once when ≤ 0); rejects when the discovery is aborted. */
  protected wait(ms: number): Promise<void> {
    return this.#clock.sleep(Math.max(0, ms), this.env.signal);
  }

  get #clock(): Clock {
    return this.env.clock ?? monotonicClock;
  }

  /** The injected clock, or Date.now. */
  protected now(): number {
    return this.env.now ? this.env.now() : Date.now();
  }

  /** Fetches `url` with retries, timeout, size cap and gzip; the body as bytes. */
  protected fetchBytes(
    url: string,
    opts: FetchOptions & { conditional: true },
  ): Promise<HttpBody | NotModified>;
  protected fetchBytes(url: string, opts?: FetchOptions): Promise<HttpBody>;
  protected async fetchBytes(
    url: string,
    opts: FetchOptions = {},
  ): Promise<HttpBody | NotModified> {
    if (this.#checkHeld(url, opts.conditional === true)) return NOT_MODIFIED;
    const conditional = opts.conditional === true && this.env.useHttpCache !== false;
    const cached = conditional ? await this.#validators(url) : undefined;
    const headers = this.#requestHeaders(opts.headers, cached);
    this.#requests++;
    await this.#pace();
    const result = await this.#request(url, headers);
    if (result === NOT_MODIFIED) {
      if (!cached) {
        const where = redactUrl(url);
        throw new DiscoveryError(`Unexpected 304 from ${where}`, { url: where, status: 304 });
      }
      this.#notModified++;
      this.#pendingCache.push({ ...cached, checkedAt: this.now() });
      return NOT_MODIFIED;
    }
    if (conditional) this.#remember(url, result.headers);
    return result;
  }

  /** One request with the configured timeout, retries and size cap; notes its refetch rules. */
  async #request(url: string, headers: Headers): Promise<HttpBody | NotModified> {
    let last: Response | undefined;
    const note = (): void => {
      if (last) this.#findings.noteResponse(url, last.headers, last.status, this.now());
    };
    this.#tally.requested(url);
    try {
      const result = await request(url, {
        headers,
        timeoutMs: this.options.timeout ? parseDuration(this.options.timeout) : DEFAULT_TIMEOUT_MS,
        retries: this.options.retries ?? DEFAULT_RETRIES,
        maxBytes: this.#maxBytes(),
        signal: this.env.signal,
        clock: this.#clock,
        log: this.env.log,
        jobId: this.env.jobId,
        onResponse: (res) => last = res,
      });
      note();
      return result;
    } catch (err) {
      note();
      if (err instanceof DiscoveryError) {
        err.refetch = this.#findings.hintFor(url, this.now());
        this.#tally.failed(url, err);
        if (err.status === 429) {
          this.env.gate?.rateLimited({ url, status: 429, error: err.message, hint: err.refetch });
        }
      }
      throw err;
    }
  }

  /** Like fetchBytes(), decoded as text using the Content-Type charset (default UTF-8). */
  protected fetchText(
    url: string,
    opts: FetchOptions & { conditional: true },
  ): Promise<TextBody | NotModified>;
  protected fetchText(url: string, opts?: FetchOptions): Promise<TextBody>;
  protected async fetchText(url: string, opts: FetchOptions = {}): Promise<TextBody | NotModified> {
    const body = await this.fetchBytes(url, opts as FetchOptions & { conditional: true });
    if (body === NOT_MODIFIED) return body;
    return { ...body, text: decodeText(body.bytes, body.contentType, url) };
  }

  /** Like fetchText(), parsed as JSON; a parse error names the URL and the content type. */
  protected fetchJson(
    url: string,
    opts: FetchOptions & { conditional: true },
  ): Promise<JsonBody | NotModified>;
  protected fetchJson(url: string, opts?: FetchOptions): Promise<JsonBody>;
  protected async fetchJson(url: string, opts: FetchOptions = {}): Promise<JsonBody | NotModified> {
    const headers = { accept: "application/json", ...opts.headers };
    const body = await this.fetchText(
      url,
      { ...opts, headers } as FetchOptions & { conditional: true },
    );
    if (body === NOT_MODIFIED) return body;
    try {
      return { ...body, json: JSON.parse(body.text) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DiscoveryError(
        `Cannot parse JSON from ${redactUrl(url)}: ${reason} (content type "${body.contentType}")`,
        { url: redactUrl(url), cause: err },
      );
    }
  }

  /** Reads an http(s) URL (conditionally) or a file relative to jobs.yaml; .gz is decompressed. */
  protected async readLocalOrUrl(pathOrUrl: string): Promise<LocalOrUrlBody | NotModified> {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const body = await this.fetchBytes(pathOrUrl, { conditional: true });
      return body === NOT_MODIFIED ? body : { source: body.url, bytes: body.bytes };
    }
    const path = resolve(this.env.configDir, pathOrUrl);
    if (await this.#fileUnchanged(path)) return NOT_MODIFIED;
    const bytes = await readLocalFile(path, this.#maxBytes());
    // The digest of the bytes read, which the file may have changed to since it was compared.
    if (this.env.useHttpCache !== false) this.keepMark(path, digest(bytes));
    return { source: path, bytes };
  }

  /**
   * Whether the file has the content this job's last discovery read, under the same options:
   * its items are recorded already. It is digested as it is read, never held whole.
   */
  async #fileUnchanged(path: string): Promise<boolean> {
    if (this.env.useHttpCache === false) return false;
    this.#requests++;
    const cached = await this.readMark(path);
    if (cached === undefined) return false;
    const etag = await digestLocalFile(path, this.#maxBytes());
    if (cached !== etag) return false;
    this.keepMark(path, etag);
    this.#notModified++;
    return true;
  }

  /**
   * What this job's last discovery noted of `source` (a file's digest, how far it read another
   * job) under the present options; undefined when it noted nothing, or in a dry run: read the
   * source in full.
   */
  protected async readMark(source: string): Promise<string | undefined> {
    if (this.env.useHttpCache === false) return undefined;
    return (await this.#validators(source))?.etag;
  }

  /** Notes `mark` for `source`; the caller stores it once the items are recorded. */
  protected keepMark(source: string, mark: string): void {
    if (this.env.useHttpCache === false) return;
    this.#pendingCache.push({ ...this.#entry(source), etag: mark, checkedAt: this.now() });
  }

  /** The validators this job stored for `url` under its present discovery options. */
  async #validators(url: string): Promise<HttpCacheEntry | undefined> {
    const cached = await this.env.db.getHttpCache({ jobId: this.env.jobId, url });
    return cached?.optionsHash === this.#entry(url).optionsHash ? cached : undefined;
  }

  /** The key of `url`'s validators: this job, under its present discovery options. */
  #entry(url: string): Pick<HttpCacheEntry, "jobId" | "url" | "optionsHash"> {
    return { jobId: this.env.jobId, url, optionsHash: this.env.optionsHash ?? "" };
  }

  #keyOf(item: RawItem, index: number): string | undefined {
    const field = this.options.key;
    const value = field === undefined ? item.key : dotPath(item.data, field);
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "number" || typeof value === "bigint") return String(value);
    if (field === undefined && item.url) return hashUrl(item.url);
    const what = field === undefined ? "no id and no url" : `no usable "${field}" field (the key)`;
    this.warn(`Skipping item ${index + 1}: it has ${what}`);
    return undefined;
  }

  #requestHeaders(extra: Record<string, string> = {}, cached?: HttpCacheEntry): Headers {
    const headers = new Headers({ "user-agent": this.env.userAgent ?? `${PROGRAM}/${VERSION}` });
    for (const [name, value] of Object.entries({ ...this.options.headers, ...extra })) {
      headers.set(name, value);
    }
    if (cached?.etag) headers.set("if-none-match", cached.etag);
    if (cached?.lastModified) headers.set("if-modified-since", cached.lastModified);
    return headers;
  }

  #remember(url: string, headers: Headers): void {
    // Stored even without validators, so validators a server stopped sending are forgotten.
    const etag = headers.get("etag") ?? undefined;
    const lastModified = headers.get("last-modified") ?? undefined;
    this.#pendingCache.push({ ...this.#entry(url), etag, lastModified, checkedAt: this.now() });
  }

  /** Waits for this request's slot when `rate` is set; slots are taken in call order. */
  async #pace(): Promise<void> {
    if (this.options.rate === undefined) return;
    await this.#pacer.wait("rate", parseRate(this.options.rate), this.env.signal);
  }

  #maxBytes(): number {
    const value = this.options.max_bytes;
    return value === undefined ? DEFAULT_MAX_BYTES : parseSize(value);
  }
}
