/**
 * Workspaces for runner tests: a temporary folder with jobs.yaml and handler files, the real
 * program run on it as a child process, the store opened through src/db, and in-process runJob().
 */
import type { ItemListing, ResultRow, Store } from "../../src/db/store.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { openDb } from "../../src/db/mod.ts";
import { type TestStore, testStore } from "../_test_store.ts";

import type { RunContext } from "../../src/runner/context.ts";
import { Pacer } from "../../src/runner/pacer.ts";
import { Resources } from "../../src/runner/resources.ts";
import { type JobRunSummary, runJob, runnerSettings } from "../../src/runner/run_job.ts";
import { silentLogger } from "../../src/util/log.ts";
import type { Clock } from "../../src/util/time.ts";
import { outputWithin, PROCESS_DEADLINE_MS, Timeout, withDeadline } from "../_deadline.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** The permissions tests run with, passed on to the program under test. */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

/** What a finished `jobctl` process left behind. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary folder holding jobs.yaml, handlers and the database; removed on dispose. */
export class Workspace implements AsyncDisposable {
  private constructor(readonly dir: string, private readonly store: TestStore) {}

  /** A new workspace with `files` (name → text) written into it. */
  static async create(files: Record<string, string>): Promise<Workspace> {
    const dir = await Deno.makeTempDir({ prefix: "jobs_runner_" });
    const ws = new Workspace(dir, await testStore(dir));
    for (const [name, text] of Object.entries(files)) await ws.write(name, text);
    return ws;
  }

  /** Absolute path of `name` inside the workspace. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** The production database: jobs.sqlite (the default `db:`), or a PostgreSQL schema. */
  get dbPath(): string {
    return this.store.location;
  }

  /**
   * What points a child `jobctl` at the workspace's store: nothing on SQLite, JOBS_DB on
   * PostgreSQL, unless the test names a store of its own with `db:` in jobs.yaml.
   */
  private storeEnv(): Record<string, string> {
    try {
      if (/^db:/m.test(Deno.readTextFileSync(this.path("jobs.yaml")))) return {};
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return this.store.env;
  }

  /** Writes `text` to `name`; a .sh file is made executable. */
  async write(name: string, text: string): Promise<void> {
    await Deno.writeTextFile(this.path(name), text);
    if (name.endsWith(".sh")) await Deno.chmod(this.path(name), 0o755);
  }

  /** Lines of a side-effect log written by handlers (none when it does not exist). */
  async lines(name: string): Promise<string[]> {
    try {
      return (await Deno.readTextFile(this.path(name))).split("\n").filter(Boolean);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  }

  /** A `jobctl ARGS` child process run in the workspace, its output piped. */
  spawn(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", DENO_JSON, ...PERMISSIONS, MAIN, ...args],
      cwd: this.dir,
      env: { NO_COLOR: "1", ...this.storeEnv(), ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Runs `jobctl ARGS` to the end with --config pointing at the workspace's jobs.yaml. */
  async jobs(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
    return await finish(this.spawn(withConfig(this, args), env));
  }

  /** Opens the production store; closed by the caller. */
  async openDb(path = this.dbPath): Promise<Store> {
    return await openDb(path);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.store.drop();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** `args` with `--config <workspace>/jobs.yaml` after the command name. */
export function withConfig(ws: Workspace, args: string[]): string[] {
  const [command, ...rest] = args;
  return [command, "--config", ws.path("jobs.yaml"), ...rest];
}

/**
 * Waits for `child` and decodes its output; fails (killing it) when it runs longer than
 * `timeoutMs` or a process it started holds its output open after it exited.
 */
export async function finish(
  child: Deno.ChildProcess,
  { timeoutMs = PROCESS_DEADLINE_MS }: { timeoutMs?: number } = {},
): Promise<Outcome> {
  const { code, stdout, stderr } = await outputWithin(
    child,
    `jobctl (pid ${child.pid})`,
    timeoutMs,
  );
  return { code, stdout, stderr };
}

/** Every item of `jobId` with its stages (listItems, without its default limit). */
export async function allItems(db: Store, jobId: string): Promise<ItemListing[]> {
  return await db.listItems({ jobId, limit: 1_000_000 });
}

/** The stored results of the item `key` of `jobId`, in pipeline order. */
export async function resultsOf(db: Store, jobId: string, key: string): Promise<ResultRow[]> {
  const item = await db.getItemDetail({ jobId, key });
  if (!item) throw new Error(`No item "${key}" in job "${jobId}"`);
  return item.results;
}

/** `{ key: "stage=status", … }` for every item of `jobId`: compact, exact expectations. */
export async function statusMap(db: Store, jobId: string): Promise<Record<string, string>> {
  const items = await allItems(db, jobId);
  return Object.fromEntries(
    items.map((i) => [i.key, i.stages.map((s) => `${s.stage}=${s.status}`).join(" ")]),
  );
}

/** Polls `check` every 10 ms until it is true; fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A clock the test moves by hand; its sleeps end only when advance() passes their end. */
export interface FakeClock extends Clock {
  /** Moves the clock on by `ms` and ends the sleeps that are then due. */
  advance(ms: number): void;
  /** The instants at which the sleeps in progress end, soonest first. */
  sleepers(): number[];
}

/** A FakeClock starting at `start`. */
export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let t = start;
  const sleeps = new Set<{ until: number; wake: () => void }>();
  return {
    now: () => t,
    sleep(ms, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const entry = { until: t + ms, wake: () => resolve() };
        if (ms <= 0) return resolve();
        sleeps.add(entry);
        signal?.addEventListener("abort", () => {
          sleeps.delete(entry);
          reject(signal.reason);
        }, { once: true });
      });
    },
    advance(ms) {
      t += ms;
      for (const entry of [...sleeps]) {
        if (entry.until > t) continue;
        sleeps.delete(entry);
        entry.wake();
      }
    },
    sleepers: () => [...sleeps].map((s) => s.until).sort((a, b) => a - b),
  };
}

/** Options of runInProcess(). */
export interface InProcessOptions {
  now?: () => number;
  /** The process's pacer (rates of resources and domains); default one on the real clock. */
  pacer?: Pacer;
  /** Replaces fields of the RunContext (mode, limit, signal, …). */
  ctx?: Partial<RunContext>;
}

/** Runs one job of the workspace's jobs.yaml with runJob() in this process, on `db`. */
export async function runInProcess(
  ws: Workspace,
  db: Store,
  jobId: string,
  options: InProcessOptions = {},
): Promise<JobRunSummary> {
  const config: Config = await loadConfig(ws.path("jobs.yaml"));
  const job = config.jobs.find((j) => j.id === jobId)!;
  const runId = `test:${crypto.randomUUID().slice(0, 8)}`;
  await db.registerRun({ runId });
  const pacer = options.pacer ?? new Pacer();
  return await runJob(
    job,
    runnerSettings(config),
    pacer,
    new Resources(config.resources, pacer),
    {
      mode: "production",
      db,
      runId,
      log: silentLogger,
      signal: new AbortController().signal,
      discoverOnly: false,
      singlePass: true,
      now: options.now ?? Date.now,
      ...options.ctx,
    },
  );
}

/** SHA-256 of a file as hex, or "missing". */
export async function fileHash(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A running `jobs` process whose stderr is collected as it comes. */
export interface RunningJobs {
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit status once the process has ended and its output is read. */
  done: Promise<Deno.CommandStatus>;
}

/**
 * Starts `jobs ARGS` (with --config of the workspace) and collects its stderr. `done` fails
 * (killing it) when it runs longer than `timeoutMs`.
 */
export function startJobs(
  ws: Workspace,
  args: string[],
  timeoutMs = PROCESS_DEADLINE_MS,
): RunningJobs {
  const child = ws.spawn(withConfig(ws, args));
  let text = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) text += chunk;
  })();
  const what = `jobctl ${args.join(" ")} (pid ${child.pid}) to exit`;
  const done = withDeadline(what, timeoutMs, async () => {
    await child.stdout.cancel();
    await withDeadline(`the output of ${what}`, timeoutMs, reading);
    return await child.status;
  }, () => {
    try {
      child.kill("SIGKILL");
    } catch { /* ended meanwhile */ }
  }).catch((err) => {
    throw err instanceof Timeout ? new Timeout(`${err.message}; stderr:\n${text}`) : err;
  });
  return { child, stderr: () => text, done };
}

/**
 * Waits for `run` to exit; after `timeoutMs` kills it with SIGKILL and fails, saying what was
 * expected and what it printed.
 */
export async function exited(
  run: RunningJobs,
  what: string,
  timeoutMs = 30_000,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), timeoutMs)
  );
  const status = await Promise.race([run.done, late]);
  clearTimeout(timer);
  if (status !== "late") return status;
  run.child.kill("SIGKILL");
  await run.done;
  throw new Error(`${what}: still running after ${timeoutMs} ms; stderr:\n${run.stderr()}`);
}

/** `db` with its claimBatch() calls counted: an idle worker makes one per poll. */
export function countingClaims(db: Store): { store: Store; claims: () => number } {
  let claims = 0;
  const store = new Proxy(db, {
    get: (target, name) => {
      const value = Reflect.get(target, name);
      if (typeof value !== "function") return value;
      if (name !== "claimBatch") return value.bind(target);
      return (...args: Parameters<Store["claimBatch"]>) => {
        claims++;
        return target.claimBatch(...args);
      };
    },
  });
  return { store, claims: () => claims };
}
