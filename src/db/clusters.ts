/** Failure clusters: failed stages grouped by their error once its variable parts are normalised. */
import type { FailedRow, FailureCluster, FailureClusterOptions } from "./store.ts";

// Order matters: URLs and quoted values swallow the numbers inside them.
const NORMALISERS: readonly [RegExp, string][] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, "<url>"],
  [/"[^"\n]*"/g, '"<value>"'],
  [/'[^'\n]*'/g, "'<value>'"],
  [/`[^`\n]*`/g, "`<value>`"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<id>"],
  [/\b0x[0-9a-f]+\b/gi, "<id>"],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi, "<id>"],
  [/(?<![a-z\d.])\d+(?:\.\d+)?/gi, "<n>"],
];

const PLACEHOLDER = /"<value>"|'<value>'|`<value>`|<url>|<id>|<n>/;

/** `error` with numbers, hex ids, URLs and quoted values replaced by placeholders. */
export function normaliseError(error: string): string {
  let text = error.trim().replace(/\s+/g, " ");
  for (const [pattern, placeholder] of NORMALISERS) text = text.replace(pattern, placeholder);
  return text;
}

// Normalising is pure and errors repeat from call to call (a refreshing dashboard), so the
// patterns of recent errors are kept, up to a bound.
const PATTERN_CACHE = new Map<string, string>();
const PATTERN_CACHE_MAX = 200_000;

function patternOf(error: string): string {
  let pattern = PATTERN_CACHE.get(error);
  if (pattern === undefined) {
    if (PATTERN_CACHE.size >= PATTERN_CACHE_MAX) PATTERN_CACHE.clear();
    PATTERN_CACHE.set(error, pattern = normaliseError(error));
  }
  return pattern;
}

interface ClusterDraft {
  stage: string;
  position: number;
  pattern: string;
  count: number;
  exampleIds: number[];
  /** The cluster's distinct errors as written. */
  errors: Set<string>;
}

/** Groups failed rows (in item order) by stage and pattern, keeping the first example ids. */
function clusterRows(rows: readonly FailedRow[], examples: number): ClusterDraft[] {
  const drafts = new Map<string, ClusterDraft>();
  for (const r of rows) {
    const pattern = patternOf(r.error);
    const id = `${r.stage}\0${pattern}`;
    let draft = drafts.get(id);
    if (!draft) {
      const fresh = { stage: r.stage, position: r.position, pattern, count: 0 };
      drafts.set(id, draft = { ...fresh, exampleIds: [], errors: new Set() });
    }
    draft.count++;
    if (draft.errors.size < DISTINCT_ERRORS_MAX) draft.errors.add(r.error);
    if (draft.exampleIds.length < examples) draft.exampleIds.push(r.itemId);
  }
  return [...drafts.values()];
}

/** Distinct errors kept per cluster to choose its match; beyond it no match is offered. */
const DISTINCT_ERRORS_MAX = 5_000;

/**
 * Text that every error of `cluster` contains, as written (not normalised: a traceback's line
 * breaks stay line breaks), and no error of another cluster of its stage does; "" when none
 * does both. `retry --error` with it retries exactly this cluster.
 */
function matchOf(cluster: ClusterDraft, others: readonly ClusterDraft[]): string {
  if (cluster.errors.size >= DISTINCT_ERRORS_MAX) return "";
  const [example] = cluster.errors;
  const rivals = others.filter((o) => o !== cluster && o.stage === cluster.stage);
  const candidates = example.split(/\s*[\n\r\t]\s*| {2,}/)
    .flatMap((segment) => literalParts(normaliseError(segment)))
    .filter((c) => c.length > 0)
    .sort((a, b) => b.length - a.length);
  return candidates.find((c) =>
    [...cluster.errors].every((e) => e.includes(c)) &&
    rivals.every((o) =>
      o.errors.size < DISTINCT_ERRORS_MAX && ![...o.errors].some((e) => e.includes(c))
    )
  ) ?? "";
}

function literalParts(pattern: string): string[] {
  return pattern.split(new RegExp(PLACEHOLDER, "g")).map((p) => p.trim());
}

/**
 * Groups `rows` (failed stages in stage and item order) by stage and normalised error, largest
 * clusters first (ties by stage position, then pattern); `keysOf` gives the example items' keys.
 */
export async function clusterFailures(
  rows: readonly FailedRow[],
  options: FailureClusterOptions,
  keysOf: (itemIds: number[]) => Promise<Map<number, string>>,
): Promise<FailureCluster[]> {
  const drafts = clusterRows(rows, options.examples ?? 3);
  const top = drafts
    .sort((a, b) =>
      b.count - a.count || a.position - b.position || a.pattern.localeCompare(b.pattern)
    )
    .slice(0, options.limit ?? 10);
  const keys = await keysOf(top.flatMap((c) => c.exampleIds));
  return top.map((c) => ({
    stage: c.stage,
    pattern: c.pattern,
    match: matchOf(c, drafts),
    count: c.count,
    exampleKeys: c.exampleIds.map((id) => keys.get(id)!),
  }));
}
