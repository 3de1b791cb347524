/** Loading a handler module in a Worker with a deadline, to tell what `jobctl run` would hit. */
import { isAbsolute, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What the worker answers to a `{ url }` request. */
export type ProbeReply =
  | { kind: "loaded"; defaultType: string; version: string | null }
  | { kind: "failed"; name: string; message: string; stack: string };

/** The name of the error Deno.exit throws in the worker while a module loads. */
export const EXIT_CALLED = "ExitCalledWhileLoading";

const WORKER = new URL("./_module_probe_worker.ts", import.meta.url);
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const FILE_URL = /file:\/\/[^\s"'`)]+/g;
const LOCATION = /(file:\/\/[^\s)]+?):(\d+):(\d+)/g;

type Outcome = ProbeReply | { kind: "timeout" };

/**
 * What is wrong with the module at `path` (absolute, real) as a handler, or undefined when it
 * loads and its default export is a function. Nothing the module does can end or block the
 * caller: it runs in a Worker that is ended after `timeoutMs` at the latest.
 */
export async function probeModule(
  path: string,
  options: { timeoutMs: number },
): Promise<string | undefined> {
  return describe(await load(path, options.timeoutMs), path, options.timeoutMs);
}

/**
 * The HANDLER_VERSION the module at `path` (absolute, real) exports, as a string; null when it
 * exports none; undefined when it does not load as a handler within `timeoutMs`.
 */
export async function probeVersion(
  path: string,
  options: { timeoutMs: number },
): Promise<string | null | undefined> {
  const outcome = await load(path, options.timeoutMs);
  return outcome.kind === "loaded" && outcome.defaultType === "function"
    ? outcome.version
    : undefined;
}

/** What loading the module in a Worker came to, within `timeoutMs`. */
async function load(path: string, timeoutMs: number): Promise<Outcome> {
  const worker = new Worker(WORKER, { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
      worker.onmessage = (event) => resolve(event.data as ProbeReply);
      worker.onerror = (event) => {
        event.preventDefault();
        resolve({
          kind: "failed",
          name: "Error",
          message: event.message,
          stack: `    at ${event.filename}:${event.lineno}:${event.colno}`,
        });
      };
      worker.postMessage({ url: pathToFileURL(path).href });
    });
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}

function describe(outcome: Outcome, path: string, timeoutMs: number): string | undefined {
  const file = `"${shown(path)}"`;
  switch (outcome.kind) {
    case "timeout":
      return `module ${file} is still loading after ${
        timeoutMs / 1000
      }s: does it await something ` +
        "that never settles at its top level? (--import-timeout gives it longer)";
    case "loaded":
      if (outcome.defaultType === "function") return undefined;
      return outcome.defaultType === "undefined"
        ? `module ${file} has no default export; a module handler is ` +
          '"export default async function (item, ctx) { … }"'
        : `the default export of ${file} is a ${outcome.defaultType}, not a function`;
    case "failed":
      return describeFailure(outcome, path);
  }
}

function describeFailure(failure: ProbeReply & { kind: "failed" }, path: string): string {
  const message = failure.message.replace(ANSI, "");
  // Deno's own loading errors (syntax, a missing import) carry the location in the message.
  const fromLoader = locationIn(message);
  const where = fromLoader ?? locationIn(failure.stack.replace(ANSI, "")) ?? shown(path);
  const first = message.split("\n")[0]
    .replace(FILE_URL, (url) => shown(fileURLToPath(url)))
    .replace(/\.$/, "");
  if (failure.name === EXIT_CALLED) {
    return `${where}: ends the process while loading (${first}), which would stop every ` +
      "jobctl run";
  }
  if (first.startsWith("SyntaxError: ")) {
    return `${where}: syntax error: ${first.slice("SyntaxError: ".length)}`;
  }
  return fromLoader
    ? `${where}: cannot load: ${first}`
    : `${where}: throws while loading: ${failure.name}: ${first}`;
}

/** The first file:line:col in `text` outside this probe, as a path to show. */
function locationIn(text: string): string | undefined {
  for (const [, url, line, col] of text.matchAll(LOCATION)) {
    if (url === WORKER.href) continue;
    return `${shown(fileURLToPath(url))}:${line}:${col}`;
  }
  return undefined;
}

/** `path` relative to the current folder when it is inside it, else absolute. */
export function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}
