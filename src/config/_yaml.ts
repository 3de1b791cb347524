/**
 * The YAML side of config loading: the document read with the places of its nodes, `${VAR}`
 * substitution, and the place a problem at a path is shown.
 */
import {
  constructFromEvents,
  type Event,
  EVENT_ID,
  parseEvents,
  SCALAR_STYLE,
  type ScalarEvent,
  YAMLException,
} from "js-yaml";
import { printable, quote } from "../util/quote.ts";

/** A path into the document: mapping keys and sequence indexes. */
export type YamlPath = (string | number)[];

/** A problem at a character offset of the file. */
export interface Located {
  offset: number;
  path: YamlPath;
  message: string;
}

/** Where a node of the document starts, where its key does (in a mapping), and its children. */
interface Place {
  start?: number;
  keyStart?: number;
  children: Map<string | number, Place>;
}

/** A YAML document read: its value and the places of its nodes. */
export interface YamlDocument {
  /** null for a file without a document (empty, or only comments). */
  value: unknown;
  root?: Place;
}

/** Thrown by readYaml() for text that is not one YAML document. */
export class YamlProblem extends Error {
  constructor(readonly located: Located) {
    super(located.message);
  }
}

/** Values a document may stand for once its aliases are expanded: more is an alias bomb. */
const MAX_VALUES = 100_000;

/** Reads `text` as one YAML document (YAML 1.2, core schema); throws a YamlProblem. */
export function readYaml(text: string): YamlDocument {
  let events: Event[];
  let values: unknown[];
  try {
    events = parseEvents(text, {});
    values = constructFromEvents(events, { source: text });
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    throw new YamlProblem({
      offset: err.mark?.position ?? 0,
      path: [],
      message: `invalid YAML: ${printable(err.reason)}`,
    });
  }
  const documents = events.flatMap((e, i) => e.type === EVENT_ID.DOCUMENT ? [i] : []);
  if (documents.length > 1) {
    throw new YamlProblem({
      offset: firstStart(events.slice(documents[1]), text) ?? text.length,
      path: [],
      message: "the file holds more than one YAML document",
    });
  }
  const value = values[0] ?? null;
  const count = valueCount(value, new WeakMap());
  if (count > MAX_VALUES) {
    throw new YamlProblem({
      offset: firstStart(events.filter((e) => e.type === EVENT_ID.ALIAS), text) ?? 0,
      path: [],
      message: count === Infinity
        ? "invalid YAML: an alias stands for a value that holds it"
        : `invalid YAML: its aliases stand for more than ${MAX_VALUES} values`,
    });
  }
  return { value, root: placesOf(events, text) };
}

/**
 * How many values `value` stands for, aliases expanded, counted once per object; more than
 * MAX_VALUES is cut short, and a value that holds itself (an alias inside its anchor) is
 * Infinity.
 */
function valueCount(value: unknown, counted: WeakMap<object, number>): number {
  if (value === null || typeof value !== "object") return 1;
  const known = counted.get(value);
  if (known !== undefined) return known;
  counted.set(value, Infinity);
  let n = 1;
  for (const child of Object.values(value)) {
    n += valueCount(child, counted);
    if (n > MAX_VALUES) return n;
  }
  counted.set(value, n);
  return n;
}

/**
 * Where a scalar starts: at its opening quote; for a block scalar (`|`, `>`) at the first
 * character of its text.
 */
function scalarStart(event: ScalarEvent, text: string): number | undefined {
  const { valueStart: start, style } = event;
  if (start === -1) return undefined;
  if (style === SCALAR_STYLE.SINGLE_QUOTED || style === SCALAR_STYLE.DOUBLE_QUOTED) {
    return start - 1;
  }
  if (style === SCALAR_STYLE.LITERAL_BLOCK || style === SCALAR_STYLE.FOLDED_BLOCK) {
    return start + (/^ */.exec(text.slice(start, start + 1000))?.[0].length ?? 0);
  }
  return start;
}

/** Where the node of `event` starts in the text; undefined for an empty scalar or a pop. */
function startOf(event: Event, text: string): number | undefined {
  switch (event.type) {
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return event.start;
    case EVENT_ID.SCALAR:
      return scalarStart(event, text);
    case EVENT_ID.ALIAS:
      return event.anchorStart - 1;
  }
  return undefined;
}

function firstStart(events: Event[], text: string): number | undefined {
  for (const event of events) {
    const start = startOf(event, text);
    if (start !== undefined) return start;
  }
  return undefined;
}

/** An open collection while the events are read; without a place inside a complex key. */
interface Frame {
  place?: Place;
  sequence: boolean;
  index: number;
  /** In a mapping: the key read, waiting for its value; null for a key that is not a scalar. */
  key?: { name: string; start?: number } | null;
}

/** The places of the document's nodes, from the parser's events. */
function placesOf(events: Event[], text: string): Place | undefined {
  let root: Place | undefined;
  const frames: Frame[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) {
      frames.pop();
      continue;
    }
    const frame = frames.at(-1);
    const sequence = event.type === EVENT_ID.SEQUENCE;
    const collection = sequence || event.type === EVENT_ID.MAPPING;
    if (frame && !frame.sequence && frame.key === undefined) {
      // A key: a scalar names its value; a collection as a key is read past, unplaced.
      frame.key = event.type === EVENT_ID.SCALAR
        ? { name: keyName(event, text), start: startOf(event, text) }
        : null;
      if (collection) frames.push({ sequence, index: 0 });
      continue;
    }
    const place: Place = { start: startOf(event, text), children: new Map() };
    if (!frame) root = place;
    else if (frame.sequence) frame.place?.children.set(frame.index++, place);
    else {
      if (frame.key) {
        place.keyStart = frame.key.start;
        frame.place?.children.set(frame.key.name, place);
      }
      frame.key = undefined;
    }
    if (collection) frames.push({ place, sequence, index: 0 });
  }
  return root;
}

const DOCUMENT_START: Event = {
  type: EVENT_ID.DOCUMENT,
  explicitStart: false,
  explicitEnd: false,
  directives: [],
};
const POP: Event = { type: EVENT_ID.POP };

/** A scalar key as the document's mapping holds it: `0x1F` is "31", `~` is "null". */
function keyName(event: ScalarEvent, text: string): string {
  return String(constructFromEvents([DOCUMENT_START, event, POP], { source: text })[0]);
}

/** The place of the node at `path` (with its key's start, in a mapping), else of its nearest parent. */
function placeAt(root: Place | undefined, path: YamlPath): Place | undefined {
  let place = root;
  for (const segment of path) {
    const next = place?.children.get(segment);
    if (next === undefined) return place;
    place = next;
  }
  return place;
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string value (not in keys) with the environment variable NAME;
 * `$${` stands for a literal `${`. Values stay strings; a value that an alias repeats is
 * replaced once. Returns a problem per unset variable.
 */
export function substituteEnv(
  doc: YamlDocument,
  env: (name: string) => string | undefined,
): Located[] {
  const problems: Located[] = [];
  const done = new WeakSet<object>();
  const visit = (holder: Record<string | number, unknown>, path: YamlPath, place?: Place) => {
    if (done.has(holder)) return;
    done.add(holder);
    const keys = Array.isArray(holder) ? holder.keys() : Object.keys(holder);
    for (const key of keys) {
      const value = holder[key];
      const at = place?.children.get(key) ?? place;
      if (value !== null && typeof value === "object") {
        visit(value as Record<string, unknown>, [...path, key], at);
      } else if (typeof value === "string") {
        holder[key] = value.replace(REFERENCE, (match, name?: string) => {
          if (name === undefined) return "${";
          const found = env(name);
          if (found !== undefined) return found;
          const message = `environment variable ${quote(name)} is not set`;
          problems.push({ offset: at?.start ?? 0, path: [...path, key], message });
          return match;
        });
      }
    }
  };
  if (doc.value !== null && typeof doc.value === "object") {
    visit(doc.value as Record<string, unknown>, [], doc.root);
  }
  return problems;
}

/**
 * The offset where a problem at `path` is shown: the value's start for a scalar, the key's start
 * for a mapping, list or empty value under a key (and for `atKey` problems); the nearest existing
 * parent when the path does not exist.
 */
export function locate(doc: YamlDocument, path: YamlPath, atKey: boolean): number {
  const place = placeAt(doc.root, path);
  const value = valueAt(doc.value, path);
  const valueless = value === null || typeof value === "object";
  if (place?.keyStart !== undefined && (atKey || valueless)) return place.keyStart;
  return place?.start ?? place?.keyStart ?? 0;
}

function valueAt(value: unknown, path: YamlPath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) {
      return current;
    }
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** The line and column (both from 1) of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf("\n"); at !== -1 && at < offset; at = text.indexOf("\n", at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/** A path as people read it: `jobs.feed.stages[1].timeout`; odd keys are quoted. */
export function formatPath(path: YamlPath): string {
  return path.map((segment, i) => {
    if (typeof segment === "number") return `[${segment}]`;
    if (!/^[A-Za-z0-9_-]+$/.test(segment)) return `[${quote(segment)}]`;
    return i === 0 ? segment : `.${segment}`;
  }).join("");
}
