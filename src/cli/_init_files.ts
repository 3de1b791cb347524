/**
 * The files `jobctl init` writes, as string constants so that a compiled jobctl carries them.
 * Adding a file to a new project is adding an entry to INIT_FILES.
 */

import JOBS_WORKER_PY from "../../workers/jobs_worker.py" with { type: "text" };

/** One file of a new project. */
export interface InitFile {
  /** Path inside the new project's folder. */
  path: string;
  /** What the file is for, shown after init. */
  about: string;
  text: string;
  /** File mode. Default 0o644. */
  mode?: number;
}

const JOBS_YAML =
  `# jobs.yaml, written by \`jobctl init\`: one job that runs offline, to start from.
#
#   jobctl validate          check this file and load every handler
#   jobctl test -j hello     run the job on a few items in a scratch database, showing each step
#   jobctl run               discover and process what is new, then exit (cron: every 5 minutes)
#   jobctl status            what is done, failed or waiting
#
# Every key is described in the "jobs.yaml reference" of jobctl's README. Relative paths are
# relative to the folder of this file.
db: jobs.sqlite                # the SQLite file every run records into (or postgres://…)

defaults:                      # for every stage that does not say otherwise
  timeout: 1m                  # one attempt may take this long
  retries: 2                   # attempts after the first, 30s apart and doubling

jobs:
  hello:                       # job id: lower-case letters, digits, _ and -
    description: Count the words of each note, then tag it by length
    discovery:                 # where the items come from
      strategy: static         # listed here; each key is an item's identity
      items:
        - { key: first, text: "A run carries on where the last one stopped." }
        - { key: second, text: "Every item goes through the stages in order, and each stage runs once for it." }
      # A feed instead (needs the network):
      #   strategy: rss
      #   url: https://example.com/feed.xml
      #   every: 15m           # discover at most this often
    stages:                    # every item goes through these, in order
      - name: count
        handler: handlers/count.ts           # a module: export default (item, ctx) => result
      - name: tag
        command: [python3, handlers/tag.py]  # a program: the item as JSON on stdin, result on stdout
      - name: line
        command: [python3, handlers/line.py] # a worker: one process for many items
        worker: true                         # (JSON lines on stdin and stdout; see jobs_worker.py)
`;

const COUNT_TS =
  `// A module handler, written by \`jobctl init\`. jobctl imports this file and calls its default
// export once per item; what it returns is stored (as JSON) as the stage's result and handed to
// the later stages as ctx.results.count.
import type { Context, Item } from "./jobctl.ts";
import { PermanentError } from "./jobctl.ts";

// Recorded with every result. Change it when the output changes: older results then count as
// stale, and \`jobctl reprocess -j hello --stale\` runs them again.
export const HANDLER_VERSION = "1";

export default function count(item: Item, ctx: Context): { words: number } {
  const text = item.data.text ?? item.data.summary ?? item.data.title;
  if (typeof text !== "string") {
    // Retrying cannot help: the stage fails at once, with this message.
    throw new PermanentError(\`Item "\${item.key}" has no text, summary or title\`);
  }
  const words = text.split(/\\s+/).filter(Boolean).length;
  if (words === 0) ctx.skip("no words"); // the stage is skipped; the next one still runs
  ctx.log.info("counted", { words });
  return { words };
}
`;

const TAG_PY = `#!/usr/bin/env python3
"""A command handler, written by \`jobctl init\`, using only Python's standard library.

jobctl runs it once per item, without a shell, in the folder of jobs.yaml. It reads one JSON
object on stdin:

  {"item": {"key": "...", "data": {...}},
   "results": {"count": {"words": 9}},
   "context": {"job": "hello", "stage": "tag", "mode": "production", "attempt": 1}}

and prints its result as JSON on stdout. The exit code says how it ended: 0 done (stdout is the
result), 10 skipped (print {"reason": "..."}), 11 failed for good, 75 retry later; any other
code is retried until the stage's retries are spent. Lines on stderr are kept with an error.
"""
import json
import sys

SKIP = 10
PERMANENT_FAILURE = 11
LONG = 10  # words

def main() -> int:
    request = json.load(sys.stdin)
    counted = request["results"].get("count")
    if counted is None:  # the count stage skipped this item
        json.dump({"reason": "nothing was counted"}, sys.stdout)
        return SKIP
    words = counted["words"]
    if not isinstance(words, int):
        print(f"count gave {words!r}, not a number", file=sys.stderr)
        return PERMANENT_FAILURE
    json.dump({"tag": "long" if words >= LONG else "short", "words": words}, sys.stdout)
    return 0

if __name__ == "__main__":
    sys.exit(main())
`;

const LINE_PY = `#!/usr/bin/env python3
"""A worker handler, written by \`jobctl init\`, using only Python's standard library.

With \`worker: true\` jobctl starts this program once and sends it item after item; jobs_worker.py
(beside it) speaks the protocol, so a handler is one function. Imports and clients made at the top
of the file are made once, not once per item.
"""
import jobs_worker

def line(item, ctx):
    tagged = ctx.results.get("tag")
    if tagged is None:  # the tag stage skipped this item
        ctx.skip("nothing was tagged")
    ctx.log("writing a line", tag=tagged["tag"])
    return {"line": f"{item['key']}: {tagged['words']} words, {tagged['tag']}"}

if __name__ == "__main__":
    jobs_worker.serve(line)
`;

const TYPES_TS =
  `// Types for jobctl handlers, written by \`jobctl init\`. A handler lives outside jobctl and
// cannot import from it; import these instead. jobctl recognises a permanent failure by the
// error's name, so the PermanentError below (or any error named "PermanentError") fails the
// stage at once, without retries.

/** The item a stage works on. */
export interface Item {
  /** The item's identity in its job: the strategy's own id, or a hash of its URL. */
  key: string;
  /** What discovery found: the fields listed for static items, { url, title, summary, … } for rss. */
  data: Record<string, unknown>;
}

/** Log lines, tagged with the job, the stage and the item. */
export interface Log {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** The second argument of a handler. */
export interface Context {
  /** Aborts on the stage's timeout and on shutdown: pass it to fetch and to child processes. */
  signal: AbortSignal;
  log: Log;
  /** Records money spent on this item; it counts toward the job's budget.daily_usd. */
  cost(usd: number, meta?: Record<string, unknown>): void;
  /** fetch, paced per domain by domain_rate; a 429 or Retry-After slows that domain down. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Ends this stage as skipped; the next stage still runs. */
  skip(reason: string): never;
  /**
   * Adds items to a job of jobs.yaml (this one or another), each { key, data } or { url, data },
   * written with this stage's done: none is lost or made twice by a crash.
   */
  emit(
    jobId: string,
    items: { key?: string | number; url?: string; data?: Record<string, unknown> }[],
  ): void;
  /** The results of the item's earlier stages, by stage name. */
  results: Record<string, unknown>;
  /** The job's id. */
  job: string;
  /** This stage's name. */
  stage: string;
  /** "production" under \`jobctl run\`, "test" under \`jobctl test\`. */
  mode: "production" | "test" | "dry_run";
  /** 1 on the first attempt. */
  attempt: number;
}

/** An item of a batch (a stage with \`batch:\`), with its own earlier results and attempt. */
export interface BatchItem extends Item {
  results: Record<string, unknown>;
  attempt: number;
}

/** The second argument of a batch handler; a cost is split evenly over the batch's items. */
export type BatchContext = Pick<Context, "signal" | "log" | "cost" | "fetch" | "job" | "stage" | "mode">;

/** What a batch handler returns for one item, in an object keyed by item key. */
export type Outcome =
  | { kind: "result"; result: unknown }
  | { kind: "skip"; reason: string }
  | { kind: "fail"; message: string }
  | { kind: "error"; message: string }
  | { kind: "retry_later"; message: string; after_ms?: number };

/** Throw it when retrying cannot help: the stage fails at once, with its message. */
export class PermanentError extends Error {
  override name = "PermanentError";
}
`;

const GITIGNORE =
  `# The store of jobctl run, its scratch copy from jobctl test, and their journal files
*.sqlite
*.sqlite-wal
*.sqlite-shm
`;

/** Every file of a new project, in the order they are listed. */
export const INIT_FILES: readonly InitFile[] = [
  {
    path: "jobs.yaml",
    about:
      'one job, "hello": two items → count (a TypeScript module) → tag (a Python program) → line (a Python worker)',
    text: JOBS_YAML,
  },
  { path: "handlers/count.ts", about: "a module handler", text: COUNT_TS },
  {
    path: "handlers/tag.py",
    about: "a command handler in Python: JSON on stdin, JSON on stdout",
    text: TAG_PY,
    mode: 0o755,
  },
  {
    path: "handlers/line.py",
    about: "a worker handler in Python: one process, one function called per item",
    text: LINE_PY,
    mode: 0o755,
  },
  {
    path: "handlers/jobs_worker.py",
    about: "the worker protocol for Python handlers (standard library only)",
    text: JOBS_WORKER_PY,
  },
  {
    path: "handlers/jobctl.ts",
    about: "types for handlers: Item, Context, PermanentError",
    text: TYPES_TS,
  },
  { path: ".gitignore", about: "keeps the database files out of git", text: GITIGNORE },
];
