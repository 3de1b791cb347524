/** github: releases, tags, issues or commits of a repository through the REST API. */
import { z } from "zod";
import {
  BaseDiscovery,
  DiscoveryError,
  httpOptions,
  httpUrl,
  itemOptions,
  type JsonBody,
  nextLink,
  type RawItem,
} from "./base.ts";

/** Options of the github strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  ...httpOptions,
  /** The repository as "owner/name". */
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name"'),
  /** What to list. */
  kind: z.enum(["releases", "tags", "issues", "commits"]),
  /** API token, usually `${GITHUB_TOKEN}`; default none (60 requests an hour). */
  token: z.string().min(1).optional(),
  /** Name of the environment variable holding the token, instead of `token`. */
  token_env: z.string().min(1).optional(),
  /** Pages of 100 to read at most; default 10. */
  max_pages: z.number().int().positive().optional(),
  /** API root; default "https://api.github.com". */
  api_url: httpUrl.optional(),
});

/** Parsed options of the github strategy. */
export type GithubOptions = z.infer<typeof schema>;

/** Waiting for the rate limit to reset is worth it only when the reset is this close. */
const MAX_RATE_WAIT_MS = 60_000;

/** Follows Link pagination and stops early (with what it has) when the rate limit runs out. */
export class GithubDiscovery extends BaseDiscovery<GithubOptions> {
  /** The listed objects, newest first as GitHub returns them; pull requests are not issues. */
  async fetchItems(): Promise<RawItem[]> {
    const { kind, repo } = this.options;
    const api = (this.options.api_url ?? "https://api.github.com").replace(/\/+$/, "");
    const state = kind === "issues" ? "&state=all" : "";
    let url: string | undefined = `${api}/repos/${repo}/${kind}?per_page=100${state}`;
    const headers = this.#headers();
    const items: RawItem[] = [];
    for (let page = 0; url && page < (this.options.max_pages ?? 10); page++) {
      const body: JsonBody = await this.fetchJson(url, { headers }).catch((err) => {
        throw rateLimitError(err) ?? err;
      });
      if (!Array.isArray(body.json)) {
        throw new DiscoveryError(`Cannot list ${kind} from ${url}: expected a JSON array`, { url });
      }
      items.push(...body.json.flatMap((record) => toItem(kind, record, repo)));
      url = nextLink(body.headers, body.url);
      if (url && !(await this.#waitForRateLimit(body.headers))) break;
    }
    return items;
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
    };
    const { token, token_env: tokenEnv } = this.options;
    const value = token ?? (tokenEnv === undefined ? undefined : Deno.env.get(tokenEnv));
    if (tokenEnv !== undefined && value === undefined) {
      throw new DiscoveryError(`Cannot read the GitHub token: $${tokenEnv} (token_env) is not set`);
    }
    if (value !== undefined) headers.authorization = `Bearer ${value}`;
    return headers;
  }

  /** True when the next page may be fetched (after waiting for a close reset if needed). */
  async #waitForRateLimit(headers: Headers): Promise<boolean> {
    if (headers.get("x-ratelimit-remaining") !== "0") return true;
    const resetMs = Number(headers.get("x-ratelimit-reset")) * 1000;
    const waitMs = resetMs - this.now();
    if (Number.isFinite(waitMs) && waitMs <= MAX_RATE_WAIT_MS) {
      this.env.log.info(`GitHub rate limit reached; waiting ${Math.ceil(waitMs / 1000)}s`, {
        job: this.env.jobId,
      });
      await this.wait(waitMs);
      return true;
    }
    this.env.log.warn(
      `GitHub rate limit reached; stopping until it resets at ${isoTime(resetMs)}`,
      {
        job: this.env.jobId,
      },
    );
    return false;
  }
}

function rateLimitError(err: unknown): DiscoveryError | undefined {
  if (!(err instanceof DiscoveryError) || (err.status !== 403 && err.status !== 429)) return;
  if (err.headers?.get("x-ratelimit-remaining") !== "0") return;
  const reset = isoTime(Number(err.headers.get("x-ratelimit-reset")) * 1000);
  return new DiscoveryError(
    `GitHub rate limit exhausted for ${err.url}; it resets at ${reset} (a token raises the limit)`,
    { url: err.url, status: err.status, cause: err },
  );
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "an unknown time";
}

type Kind = GithubOptions["kind"];
// deno-lint-ignore no-explicit-any
type Json = any;

function toItem(kind: Kind, record: Json, repo: string): RawItem[] {
  if (kind === "issues" && record.pull_request) return [];
  return [MAPPERS[kind](record, repo)];
}

const MAPPERS: Record<Kind, (r: Json, repo: string) => RawItem> = {
  releases: (r) => ({
    key: String(r.tag_name),
    url: r.html_url,
    date: r.published_at ?? r.created_at,
    data: {
      tag: r.tag_name,
      name: r.name,
      url: r.html_url,
      published_at: r.published_at,
      draft: r.draft,
      prerelease: r.prerelease,
      body: r.body,
      assets: (r.assets ?? []).map((a: Json) => ({ name: a.name, url: a.browser_download_url })),
    },
  }),
  tags: (r, repo) => ({
    key: String(r.name),
    data: { name: r.name, sha: r.commit?.sha, url: `https://github.com/${repo}/tree/${r.name}` },
  }),
  issues: (r) => ({
    key: String(r.number),
    url: r.html_url,
    date: r.updated_at,
    data: {
      number: r.number,
      title: r.title,
      url: r.html_url,
      state: r.state,
      author: r.user?.login,
      labels: (r.labels ?? []).map((l: Json) => typeof l === "string" ? l : l.name),
      created_at: r.created_at,
      updated_at: r.updated_at,
      body: r.body,
    },
  }),
  commits: (r) => ({
    key: String(r.sha),
    url: r.html_url,
    date: r.commit?.author?.date,
    data: {
      sha: r.sha,
      message: r.commit?.message,
      author: r.commit?.author?.name,
      date: r.commit?.author?.date,
      url: r.html_url,
    },
  }),
};
