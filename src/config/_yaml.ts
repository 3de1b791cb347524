/** The YAML side of config loading: walking nodes with their paths, `${VAR}` substitution, positions. */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, type Pair } from "yaml";
import { quote } from "../util/quote.ts";

/** A path into the document: mapping keys and sequence indexes. */
export type YamlPath = (string | number)[];

/** A problem at a character offset of the file. */
export interface Located {
  offset: number;
  path: YamlPath;
  message: string;
}

/** Calls `visit` for every node below `node`, with its path. */
function walk(
  node: unknown,
  path: YamlPath,
  visit: (node: Node, path: YamlPath) => void,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (isScalar(pair.value) || isMap(pair.value) || isSeq(pair.value) || isAlias(pair.value)) {
        visit(pair.value, [...path, key]);
        walk(pair.value, [...path, key], visit);
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      if (isScalar(item) || isMap(item) || isSeq(item) || isAlias(item)) {
        visit(item, [...path, index]);
        walk(item, [...path, index], visit);
      }
    });
  }
}

function keyOf(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string value (not in keys) with the environment variable NAME;
 * `$${` stands for a literal `${`. Values stay strings. Returns a problem per unset variable
 * and per alias whose anchor does not exist.
 */
export function substituteEnv(
  doc: Document,
  env: (name: string) => string | undefined,
): Located[] {
  const problems: Located[] = [];
  walk(doc.contents, [], (node, path) => {
    const offset = node.range?.[0] ?? 0;
    if (isAlias(node) && node.resolve(doc) === undefined) {
      problems.push({ offset, path, message: `unknown anchor ${quote(`*${node.source}`)}` });
    }
    if (!isScalar(node) || typeof node.value !== "string") return;
    node.value = node.value.replace(REFERENCE, (match, name?: string) => {
      if (name === undefined) return "${";
      const value = env(name);
      if (value !== undefined) return value;
      problems.push({ offset, path, message: `environment variable ${quote(name)} is not set` });
      return match;
    });
  });
  return problems;
}

/**
 * The offset where a problem at `path` is shown: the value's start for a scalar, the key's start
 * for a mapping, list or empty value under a key (and for `atKey` problems); the nearest existing
 * parent when the path does not exist.
 */
export function locate(doc: Document, path: YamlPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let holder: Pair | undefined;
  for (const segment of path) {
    const next = childOf(node, segment);
    if (next === undefined) break;
    [node, holder] = next;
  }
  const keyStart = isPair(holder) ? (holder.key as Node | null)?.range?.[0] : undefined;
  const nodeStart = (node as Node | null)?.range?.[0];
  const valueless = !isScalar(node) || node.value === null;
  if (keyStart !== undefined && (atKey || valueless)) return keyStart;
  return nodeStart ?? keyStart ?? 0;
}

function childOf(node: unknown, segment: string | number): [unknown, Pair | undefined] | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => keyOf(p) === String(segment));
    return pair ? [pair.value, pair] : undefined;
  }
  if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
    return [node.items[segment], undefined];
  }
  return undefined;
}

/** A path as people read it: `jobs.feed.stages[1].timeout`; odd keys are quoted. */
export function formatPath(path: YamlPath): string {
  return path.map((segment, i) => {
    if (typeof segment === "number") return `[${segment}]`;
    if (!/^[A-Za-z0-9_-]+$/.test(segment)) return `[${quote(segment)}]`;
    return i === 0 ? segment : `.${segment}`;
  }).join("");
}
