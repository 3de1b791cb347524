/** Discovery strategies by name: their option schemas and runDiscovery(). */
import { z } from "zod";
import type { DiscoveryConfig, JobConfig } from "../config/types.ts";
import { type DiscoveryEnv, DiscoveryError, type DiscoveryResult } from "./base.ts";
import * as arxiv from "./arxiv.ts";
import * as command from "./command.ts";
import * as csv from "./csv.ts";
import * as files from "./files.ts";
import * as github from "./github.ts";
import * as hackernews from "./hackernews.ts";
import * as htmlLinks from "./html_links.ts";
import * as job from "./job.ts";
import * as jsonApi from "./json_api.ts";
import * as jsonl from "./jsonl.ts";
import * as podcast from "./podcast.ts";
import * as reddit from "./reddit.ts";
import * as rss from "./rss.ts";
import * as sitemap from "./sitemap.ts";
import * as sqlite from "./sqlite.ts";
import * as staticItems from "./static.ts";
import * as youtube from "./youtube.ts";

interface Strategy {
  /** Validates the discovery mapping minus its `strategy` key; strict. */
  schema: z.ZodType;
  Discovery: new (options: never, env: DiscoveryEnv) => { discover(): Promise<DiscoveryResult> };
}

const STRATEGIES: Record<string, Strategy> = {
  arxiv: { schema: arxiv.schema, Discovery: arxiv.ArxivDiscovery },
  command: { schema: command.schema, Discovery: command.CommandDiscovery },
  csv: { schema: csv.schema, Discovery: csv.CsvDiscovery },
  files: { schema: files.schema, Discovery: files.FilesDiscovery },
  github: { schema: github.schema, Discovery: github.GithubDiscovery },
  hackernews: { schema: hackernews.schema, Discovery: hackernews.HackernewsDiscovery },
  html_links: { schema: htmlLinks.schema, Discovery: htmlLinks.HtmlLinksDiscovery },
  job: { schema: job.schema, Discovery: job.JobDiscovery },
  json_api: { schema: jsonApi.schema, Discovery: jsonApi.JsonApiDiscovery },
  jsonl: { schema: jsonl.schema, Discovery: jsonl.JsonlDiscovery },
  podcast: { schema: podcast.schema, Discovery: podcast.PodcastDiscovery },
  reddit: { schema: reddit.schema, Discovery: reddit.RedditDiscovery },
  rss: { schema: rss.schema, Discovery: rss.RssDiscovery },
  sitemap: { schema: sitemap.schema, Discovery: sitemap.SitemapDiscovery },
  sqlite: { schema: sqlite.schema, Discovery: sqlite.SqliteDiscovery },
  static: { schema: staticItems.schema, Discovery: staticItems.StaticDiscovery },
  youtube: { schema: youtube.schema, Discovery: youtube.YoutubeDiscovery },
};

/** Strategies that always read over HTTP; csv and jsonl do when given a `url`. */
const HTTP_STRATEGIES: ReadonlySet<string> = new Set([
  "arxiv",
  "github",
  "hackernews",
  "html_links",
  "json_api",
  "podcast",
  "reddit",
  "rss",
  "sitemap",
  "youtube",
]);

/** Whether a discovery fetches URLs (a feed, an API), rather than reading local things. */
export function readsUrls(discovery: DiscoveryConfig): boolean {
  return HTTP_STRATEGIES.has(discovery.strategy) || typeof discovery.options.url === "string";
}

/** Names of every discovery strategy, sorted. */
export function strategyNames(): string[] {
  return Object.keys(STRATEGIES).sort();
}

/** The option schema of strategy `name` (strict, includes `every`); throws for an unknown name. */
export function strategySchema(name: string): z.ZodType {
  const strategy = STRATEGIES[name];
  if (!strategy) throw new Error(`Unknown discovery strategy "${name}"`);
  return strategy.schema;
}

/** Runs the discovery of `job`; any failure is a DiscoveryError. */
export async function runDiscovery(
  job: JobConfig,
  env: Omit<DiscoveryEnv, "jobId">,
): Promise<DiscoveryResult> {
  const { strategy: name, options } = job.discovery;
  const strategy = STRATEGIES[name];
  if (!strategy) {
    throw new DiscoveryError(`Cannot discover job "${job.id}": unknown strategy "${name}"`);
  }
  const parsed = strategy.schema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "options"}: ${issue.message}`)
      .join("; ");
    throw new DiscoveryError(`Cannot discover job "${job.id}": invalid options: ${problems}`);
  }
  const discovery = new strategy.Discovery(parsed.data as never, { ...env, jobId: job.id });
  try {
    return await discovery.discover();
  } catch (err) {
    if (err instanceof DiscoveryError || env.signal?.aborted) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DiscoveryError(`Cannot discover job "${job.id}": ${reason}`, { cause: err });
  }
}
