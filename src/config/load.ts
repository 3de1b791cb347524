/**
 * Loading jobs.yaml: YAML with positions, `${VAR}` substitution in string values (`$${` for a
 * literal `${`), validation, and every problem reported as `FILE:LINE:COL: PATH: MESSAGE`.
 */
import { dirname, resolve } from "node:path";
import { ConfigError } from "../util/errors.ts";
import type { ConfigIssue } from "./_issues.ts";
import { describeValue } from "../util/quote.ts";
import {
  formatPath,
  lineAndColumn,
  locate,
  type Located,
  readYaml,
  substituteEnv,
  type YamlDocument,
  YamlProblem,
} from "./_yaml.ts";
import { checkReferences, findReferences } from "./references.ts";
import { parseConfig } from "./schema.ts";
import { loadStrategies } from "../discovery/mod.ts";
import type { Config } from "./types.ts";

/** Options of loadConfig(). */
export interface LoadOptions {
  /**
   * Also load every handler module (in a Worker, each within `timeoutMs`) and look up every
   * command program, reporting what a run would hit. Default: not checked.
   */
  handlers?: { timeoutMs: number };
}

/** Reads and validates the jobs.yaml at `path`; throws a ConfigError listing every problem. */
export async function loadConfig(path: string, options: LoadOptions = {}): Promise<Config> {
  const text = await readText(path);
  const fail = (problems: Located[]): ConfigError =>
    new ConfigError(formatProblems(path, problems, text));
  let doc: YamlDocument;
  try {
    doc = readYaml(text);
  } catch (err) {
    if (err instanceof YamlProblem) throw fail([err.located]);
    throw err;
  }
  const early = topLevelProblems(doc);
  if (early.length) throw fail(early);
  const substitution = substituteEnv(doc, (name) => Deno.env.get(name));
  const raw = doc.value;

  const file = resolve(path);
  await loadStrategies(strategiesNamed(raw));
  const result = parseConfig(raw, { file, dir: dirname(file) });
  const issues = [
    ...(result.ok ? [] : result.issues),
    ...await referenceIssues(raw, dirname(file), options),
  ];
  const later = issues.map((issue) => ({
    offset: locate(doc, issue.path, issue.atKey),
    path: issue.path,
    message: issue.message,
  }));
  // A value with an unset variable is reported once, for the variable.
  const problems = [
    ...substitution,
    ...later.filter((p) => !substitution.some((s) => s.offset === p.offset)),
  ];
  if (problems.length || !result.ok) throw fail(problems);
  return result.config;
}

/** The `strategy:` values of the jobs' discoveries in `raw`, whatever the rest looks like. */
function strategiesNamed(raw: unknown): string[] {
  const jobs = (raw as { jobs?: unknown } | null)?.jobs;
  if (typeof jobs !== "object" || jobs === null) return [];
  return Object.values(jobs).flatMap((job) => {
    const strategy = (job as { discovery?: { strategy?: unknown } } | null)?.discovery?.strategy;
    return typeof strategy === "string" ? [strategy] : [];
  });
}

/** With `options.handlers`: what a run would hit with the modules and programs named in `raw`. */
async function referenceIssues(
  raw: unknown,
  dir: string,
  options: LoadOptions,
): Promise<ConfigIssue[]> {
  if (!options.handlers) return [];
  const problems = await checkReferences(findReferences(raw, dir), { dir, ...options.handlers });
  return problems.map((problem) => ({ ...problem, atKey: false }));
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "file not found (choose another with --config FILE or $JOBS_CONFIG)"
      : (err as Error).message;
    throw new ConfigError([`${path}: cannot read the config: ${reason}`]);
  }
}

/** An empty file or a top level that is not a mapping. */
function topLevelProblems(doc: YamlDocument): Located[] {
  if (doc.value === null) {
    return [{
      offset: 0,
      path: [],
      message: 'the file is empty; expected a mapping with a "jobs" key',
    }];
  }
  if (typeof doc.value !== "object" || Array.isArray(doc.value)) {
    return [{
      offset: doc.root?.start ?? 0,
      path: [],
      message: `expected a mapping with a "jobs" key at the top level, got ${
        describeValue(doc.value)
      }`,
    }];
  }
  return [];
}

function formatProblems(file: string, problems: Located[], text: string): string[] {
  const sorted = [...problems].sort((a, b) => a.offset - b.offset);
  const lines = sorted.map(({ offset, path, message }) => {
    const { line, col } = lineAndColumn(text, offset);
    return `${file}:${line}:${col}: ${path.length ? `${formatPath(path)}: ` : ""}${message}`;
  });
  return [...new Set(lines)];
}
