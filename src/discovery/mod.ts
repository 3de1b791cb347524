/** Discovery strategies by name: their option schemas and runDiscovery(). */
import { z } from "zod";
import { digest } from "../util/digest.ts";
import { VERSION } from "../version.ts";
import type { DiscoveryConfig, JobConfig } from "../config/types.ts";
import { type DiscoveryEnv, DiscoveryError, type DiscoveryResult } from "./base.ts";

interface Strategy {
  /** Validates the discovery mapping minus its `strategy` key; strict. */
  schema: z.ZodType;
  Discovery: new (options: never, env: DiscoveryEnv) => { discover(): Promise<DiscoveryResult> };
}

/**
 * Each strategy's module, loaded when a config names it: a job reading a jsonl file does not
 * load the HTML and XML parsers (about 10 MB and 50 ms at start-up).
 */
const STRATEGIES: Record<string, () => Promise<Strategy>> = {
  arxiv: () => import("./arxiv.ts").then((m) => strategy(m.schema, m.ArxivDiscovery)),
  command: () => import("./command.ts").then((m) => strategy(m.schema, m.CommandDiscovery)),
  csv: () => import("./csv.ts").then((m) => strategy(m.schema, m.CsvDiscovery)),
  files: () => import("./files.ts").then((m) => strategy(m.schema, m.FilesDiscovery)),
  github: () => import("./github.ts").then((m) => strategy(m.schema, m.GithubDiscovery)),
  hackernews: () =>
    import("./hackernews.ts").then((m) => strategy(m.schema, m.HackernewsDiscovery)),
  html_links: () => import("./html_links.ts").then((m) => strategy(m.schema, m.HtmlLinksDiscovery)),
  job: () => import("./job.ts").then((m) => strategy(m.schema, m.JobDiscovery)),
  json_api: () => import("./json_api.ts").then((m) => strategy(m.schema, m.JsonApiDiscovery)),
  jsonl: () => import("./jsonl.ts").then((m) => strategy(m.schema, m.JsonlDiscovery)),
  podcast: () => import("./podcast.ts").then((m) => strategy(m.schema, m.PodcastDiscovery)),
  reddit: () => import("./reddit.ts").then((m) => strategy(m.schema, m.RedditDiscovery)),
  rss: () => import("./rss.ts").then((m) => strategy(m.schema, m.RssDiscovery)),
  sitemap: () => import("./sitemap.ts").then((m) => strategy(m.schema, m.SitemapDiscovery)),
  sqlite: () => import("./sqlite.ts").then((m) => strategy(m.schema, m.SqliteDiscovery)),
  static: () => import("./static.ts").then((m) => strategy(m.schema, m.StaticDiscovery)),
  youtube: () => import("./youtube.ts").then((m) => strategy(m.schema, m.YoutubeDiscovery)),
};

function strategy(schema: z.ZodType, Discovery: Strategy["Discovery"]): Strategy {
  return { schema, Discovery };
}

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

const loaded = new Map<string, Strategy>();

/** Loads the modules of the strategies among `names`; unknown names are left to validation. */
export async function loadStrategies(names: Iterable<string>): Promise<void> {
  const wanted = [...new Set(names)].filter((name) => Object.hasOwn(STRATEGIES, name));
  await Promise.all(wanted.map(loadStrategy));
}

async function loadStrategy(name: string): Promise<Strategy> {
  const known = loaded.get(name);
  if (known) return known;
  const strategy = await STRATEGIES[name]();
  loaded.set(name, strategy);
  return strategy;
}

/**
 * The option schema of strategy `name` (strict, includes `every`), once loadStrategies() has
 * loaded it; throws for an unknown name.
 */
export function strategySchema(name: string): z.ZodType {
  if (!Object.hasOwn(STRATEGIES, name)) throw new Error(`Unknown discovery strategy "${name}"`);
  const strategy = loaded.get(name);
  if (!strategy) throw new Error(`Discovery strategy "${name}" is used before it is loaded`);
  return strategy.schema;
}

/** Runs the discovery of `job`; any failure is a DiscoveryError. */
export async function runDiscovery(
  job: JobConfig,
  env: Omit<DiscoveryEnv, "jobId" | "optionsHash">,
): Promise<DiscoveryResult> {
  const { strategy: name, options } = job.discovery;
  if (!Object.hasOwn(STRATEGIES, name)) {
    throw new DiscoveryError(`Cannot discover job "${job.id}": unknown strategy "${name}"`);
  }
  const strategy = await loadStrategy(name);
  const parsed = strategy.schema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join(".") || "options"}: ${issue.message}`)
      .join("; ");
    throw new DiscoveryError(`Cannot discover job "${job.id}": invalid options: ${problems}`);
  }
  // With the version: a jobctl that reads sources differently reads each in full once more.
  const optionsHash = digest(JSON.stringify({ VERSION, strategy: name, options: parsed.data }));
  const discovery = new strategy.Discovery(parsed.data as never, {
    ...env,
    jobId: job.id,
    optionsHash,
  });
  try {
    return await discovery.discover();
  } catch (err) {
    if (err instanceof DiscoveryError || env.signal?.aborted) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DiscoveryError(`Cannot discover job "${job.id}": ${reason}`, { cause: err });
  }
}
