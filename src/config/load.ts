/**
 * Loading jobs.yaml: YAML with positions, `${VAR}` substitution in string values (`$${` for a
 * literal `${`), validation, and every problem reported as `FILE:LINE:COL: PATH: MESSAGE`.
 */
import { dirname, resolve } from "node:path";
import { type Document, isMap, LineCounter, parseDocument } from "yaml";
import { ConfigError } from "../util/errors.ts";
import type { ConfigIssue } from "./_issues.ts";
import { describeValue } from "../util/quote.ts";
import { formatPath, locate, type Located, substituteEnv } from "./_yaml.ts";
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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const fail = (problems: Located[]): ConfigError =>
    new ConfigError(formatProblems(path, problems, lineCounter));

  const early = syntaxProblems(doc);
  if (early.length) throw fail(early);
  const substitution = substituteEnv(doc, (name) => Deno.env.get(name));
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // An alias without its anchor is already among the substitution problems.
    const reason = { offset: 0, path: [], message: `invalid YAML: ${(err as Error).message}` };
    throw fail(substitution.length ? substitution : [reason]);
  }

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

/** YAML syntax errors, an empty file or a top level that is not a mapping. */
function syntaxProblems(doc: Document): Located[] {
  if (doc.errors.length) {
    return doc.errors.map((err) => ({
      offset: err.pos[0],
      path: [],
      message: err.code === "MULTIPLE_DOCS"
        ? "the file holds more than one YAML document"
        : `invalid YAML: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`,
    }));
  }
  if (doc.contents === null) {
    return [{
      offset: 0,
      path: [],
      message: 'the file is empty; expected a mapping with a "jobs" key',
    }];
  }
  if (!isMap(doc.contents)) {
    const found = describeValue(doc.toJS());
    return [{
      offset: doc.contents.range?.[0] ?? 0,
      path: [],
      message: `expected a mapping with a "jobs" key at the top level, got ${found}`,
    }];
  }
  return [];
}

function formatProblems(file: string, problems: Located[], lines: LineCounter): string[] {
  const sorted = [...problems].sort((a, b) => a.offset - b.offset);
  const text = sorted.map(({ offset, path, message }) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}: ${path.length ? `${formatPath(path)}: ` : ""}${message}`;
  });
  return [...new Set(text)];
}
