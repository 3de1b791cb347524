/**
 * The peer workload through the real command line: 20,000 items from a jsonl file through 3
 * no-op module stages, concurrency 16, as two processes (`jobctl run --discover-only`, then
 * `jobctl run`), each timed whole and its peak RSS read by /usr/bin/time; beside, in turns,
 * the raw node:sqlite enqueue and claim → done loops as whole processes (bench/raw_process.ts)
 * and once more inside this process. `--large` adds 200,000 items.
 */
import { cpuUsage } from "node:process";
import { fileURLToPath } from "node:url";
import { openDb } from "../src/db/mod.ts";
import { rawTwin } from "./db_bench.ts";
import { rawLoop, rawUpsert } from "./_raw.ts";
import { CONCURRENCY, STAGES, writeWorkspace } from "./_workload.ts";
import { jobctlFlags } from "../scripts/_jobctl_flags.ts";

const SMALL = 20_000;
/** Rounds of the 20,000-item figures, jobctl and the raw processes taking turns. */
const ROUNDS = 3;
const LARGE = 200_000;
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../deno.json", import.meta.url));
const RAW_PROCESS = fileURLToPath(new URL("./raw_process.ts", import.meta.url));
const TIME = "/usr/bin/time";

/** One `jobctl` process: its wall time, CPU time and peak RSS. */
interface ProcessFigure {
  ms: number;
  /** User + system CPU time in ms; undefined without /usr/bin/time. */
  cpuMs?: number;
  /** Bytes; undefined without /usr/bin/time. */
  peakRss?: number;
}

/** What the command line did with `n` items. */
interface CliFigures {
  discover: ProcessFigure;
  run: ProcessFigure;
  transitions: number;
}

function records(n: number): { key: string; data: Record<string, unknown> }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `item-${i}`,
    data: { key: `item-${i}`, url: `https://example.org/posts/${i}`, n: i },
  }));
}

async function hasTime(): Promise<boolean> {
  try {
    return (await Deno.stat(TIME)).isFile;
  } catch {
    return false;
  }
}

/** Runs `deno ARGV` in `dir` to the end: wall time from spawn to exit, CPU time, peak RSS. */
async function timedDeno(
  dir: string,
  argv: string[],
  timed: boolean,
): Promise<ProcessFigure & { stdout: string }> {
  const [program, ...rest] = timed
    ? [TIME, "-v", Deno.execPath(), ...argv]
    : [Deno.execPath(), ...argv];
  const started = performance.now();
  const out = await new Deno.Command(program, {
    args: rest,
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`deno ${argv.join(" ")} failed (exit ${out.code}): ${stderr}`);
  }
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  const seconds = (what: string) =>
    Number(new RegExp(`${what} time \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1]);
  const cpuMs = (seconds("User") + seconds("System")) * 1000;
  return {
    ms,
    cpuMs: Number.isNaN(cpuMs) ? undefined : cpuMs,
    peakRss: kb === undefined ? undefined : Number(kb) * 1024,
    stdout: new TextDecoder().decode(out.stdout),
  };
}

/** Runs `jobctl ARGS` in `dir` as `deno task jobctl` runs it: the task's permissions and heap. */
function jobctl(dir: string, args: string[], timed: boolean): Promise<ProcessFigure> {
  return timedDeno(dir, ["run", "--config", DENO_JSON, ...jobctlFlags(), MAIN, ...args], timed);
}

/** Writes `n` items as `dir`/items.jsonl and the store's empty schema as `dir`/`store`. */
async function prepareFiles(dir: string, n: number, store: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const lines = records(n).map((r) => JSON.stringify(r.data));
  await Deno.writeTextFile(`${dir}/items.jsonl`, lines.join("\n") + "\n");
  // The schema is made before timing, as a first run would make it only once.
  await (await openDb(`${dir}/${store}`)).close();
}

/** Discovers `n` jsonl items with one process and runs them with another. */
async function throughCli(dir: string, n: number, timed: boolean): Promise<CliFigures> {
  const yaml = await writeWorkspace(dir, "{ strategy: jsonl, path: ./items.jsonl }");
  await prepareFiles(dir, n, "jobs.sqlite");
  const discover = await jobctl(dir, ["run", "--discover-only", "--config", yaml], timed);
  const run = await jobctl(dir, ["run", "--config", yaml], timed);
  const db = await openDb(`${dir}/jobs.sqlite`);
  try {
    const stats = await db.stageStats("bench");
    return { discover, run, transitions: stats.reduce((sum, s) => sum + s.done, 0) };
  } finally {
    await db.close();
  }
}

/** The raw loop as whole processes: one reads and enqueues items.jsonl, one claims → done. */
async function rawProcesses(dir: string, n: number, timed: boolean): Promise<RawProcesses> {
  await prepareFiles(dir, n, "raw.sqlite");
  const raw = (...args: string[]) =>
    timedDeno(dir, ["run", "--allow-read", "--allow-write", RAW_PROCESS, ...args], timed);
  const enqueue = await raw("enqueue", "raw.sqlite", "items.jsonl", "bench", STAGES.join(","));
  const loop = await raw("loop", "raw.sqlite", "bench", STAGES.join(","));
  const { transitions } = JSON.parse(loop.stdout) as { transitions: number };
  if (transitions !== n * STAGES.length) {
    throw new Error(
      `The raw loop process did ${transitions} transitions, not ${n * STAGES.length}`,
    );
  }
  return { enqueue, loop, rate: ((n * STAGES.length) / loop.ms) * 1000 };
}

/** What the raw processes did with the items: each process, and the loop's transitions/s. */
interface RawProcesses {
  enqueue: ProcessFigure;
  loop: ProcessFigure;
  rate: number;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1];

/** Rounds of one process as one figure: the median wall time, CPU time and peak RSS. */
function combine(rounds: ProcessFigure[]): ProcessFigure {
  const cpu = rounds.map((r) => r.cpuMs).filter((ms) => ms !== undefined);
  const rss = rounds.map((r) => r.peakRss).filter((bytes) => bytes !== undefined);
  return {
    ms: median(rounds.map((r) => r.ms)),
    cpuMs: cpu.length === rounds.length ? median(cpu) : undefined,
    peakRss: rss.length === rounds.length ? median(rss) : undefined,
  };
}

/**
 * ROUNDS of the 20,000-item workload through jobctl and through the raw processes, taking
 * turns so that a busy moment of the machine falls on both; each figure is their median.
 */
async function smallRounds(root: string, timed: boolean) {
  const cli: CliFigures[] = [];
  const proc: RawProcesses[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    cli.push(await throughCli(`${root}/cli-${round}`, SMALL, timed));
    proc.push(await rawProcesses(`${root}/raw-process-${round}`, SMALL, timed));
  }
  const transitions = SMALL * STAGES.length;
  const wrong = cli.find((c) => c.transitions !== transitions);
  if (wrong) throw new Error(`jobctl run did ${wrong.transitions} transitions, not ${transitions}`);
  const loop = combine(proc.map((p) => p.loop));
  return {
    /** The peak RSS of each round. */
    peaks: cli.map(peakOf),
    cli: {
      discover: combine(cli.map((c) => c.discover)),
      run: combine(cli.map((c) => c.run)),
      transitions,
    },
    proc: {
      enqueue: combine(proc.map((p) => p.enqueue)),
      loop,
      rate: (transitions / loop.ms) * 1000,
    },
  };
}

/** The higher peak RSS of the two jobctl processes (0 without /usr/bin/time). */
function peakOf(figures: CliFigures): number {
  return Math.max(figures.discover.peakRss ?? 0, figures.run.peakRss ?? 0);
}

/** CPU time (user + system) of this process so far, in ms. */
function cpuNow(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

/** The raw loop's enqueue of the same items, and its claim → done loop over them. */
async function rawBaseline(dir: string, n: number) {
  await Deno.mkdir(dir, { recursive: true });
  const conn = await rawTwin(dir, "raw");
  const list = records(n);
  const [started, cpuStarted] = [performance.now(), cpuNow()];
  rawUpsert(conn, list, Date.now(), { id: "bench", stages: STAGES });
  const [enqueueMs, enqueueCpuMs] = [performance.now() - started, cpuNow() - cpuStarted];
  conn.close();
  const loopCpuStarted = cpuNow();
  const loop = rawLoop(`${dir}/raw.sqlite`, { id: "bench", stages: STAGES });
  const loopCpuMs = cpuNow() - loopCpuStarted;
  if (loop.transitions !== n * STAGES.length) {
    throw new Error(`The raw loop did ${loop.transitions} transitions, not ${n * STAGES.length}`);
  }
  return {
    enqueueMs,
    enqueueCpuMs,
    rate: (loop.transitions / loop.ms) * 1000,
    cpuRate: (loop.transitions / loopCpuMs) * 1000,
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const mb = (bytes: number | undefined) => bytes === undefined ? "?" : fmt(bytes / 2 ** 20, 1);

const log = (line: string) => console.log(line);
const check = (met: boolean, what: string) => log(`${met ? "met   " : "MISSED"} ${what}`);

type Raw = Awaited<ReturnType<typeof rawBaseline>>;
type Rounds = Awaited<ReturnType<typeof smallRounds>>;

/** The 20,000-item figures beside the raw loop's; returns the median round's peak RSS. */
function printSmall({ cli, proc, peaks }: Rounds, raw: Raw, timed: boolean): number {
  const rate = (cli.transitions / cli.run.ms) * 1000;
  log(
    `jobctl, ${fmt(SMALL)} jsonl items × ${STAGES.length} no-op module stages, concurrency ` +
      `${CONCURRENCY}, whole processes, medians of ${ROUNDS} rounds: run --discover-only ${
        fmt(cli.discover.ms)
      } ms ` +
      `(peak RSS ${mb(cli.discover.peakRss)} MB), run ${fmt(cli.run.ms)} ms = ` +
      `${fmt(rate)} transitions/s (peak RSS ${mb(cli.run.peakRss)} MB)`,
  );
  log(
    `raw node:sqlite loop as whole processes, same run: read + enqueue ${
      fmt(proc.enqueue.ms)
    } ms ` +
      `(peak RSS ${mb(proc.enqueue.peakRss)} MB), loop ${fmt(proc.loop.ms)} ms = ` +
      `${fmt(proc.rate)} transitions/s (peak RSS ${mb(proc.loop.peakRss)} MB)`,
  );
  log(
    `raw node:sqlite loop in this process, same run: enqueue ${fmt(raw.enqueueMs)} ms, ` +
      `${fmt(raw.rate)} transitions/s`,
  );
  printCpu(cli, raw);
  check(
    rate >= 0.6 * proc.rate && rate >= 0.6 * raw.rate,
    `≥ 0.6× the raw loop's transitions/s: ${fmt(rate / proc.rate, 2)}× the raw process, ` +
      `${fmt(rate / raw.rate, 2)}× the in-process loop`,
  );
  check(
    cli.discover.ms <= 1.5 * proc.enqueue.ms,
    `discovery ≤ 1.5× the raw enqueue time, process against process: ` +
      `${fmt(cli.discover.ms / proc.enqueue.ms, 2)}×`,
  );
  check(
    cli.discover.ms <= 1.5 * raw.enqueueMs,
    `discovery ≤ 1.5× the raw enqueue time, against the in-process enqueue (no process start, ` +
      `no file read): ${fmt(cli.discover.ms / raw.enqueueMs, 2)}×`,
  );
  if (timed) {
    check(
      Math.max(...peaks) <= 100 * 2 ** 20,
      `peak RSS ≤ 100 MB at 20,000 items in every round: ${peaks.map(mb).join(", ")} MB`,
    );
  }
  return median(peaks);
}

/** CPU time per transition and of discovery, beside the in-process raw loop's. */
function printCpu(cli: CliFigures, raw: Raw): void {
  if (cli.run.cpuMs === undefined || cli.discover.cpuMs === undefined) return;
  // On a machine shared with other work, CPU time says what wall time cannot.
  const cpuRate = (cli.transitions / cli.run.cpuMs) * 1000;
  log(
    `per CPU second: jobctl run ${fmt(cpuRate)} transitions (raw loop ${fmt(raw.cpuRate)}, ` +
      `${fmt(cpuRate / raw.cpuRate, 2)}×); discovery ${fmt(cli.discover.cpuMs)} ms CPU ` +
      `(raw enqueue ${fmt(raw.enqueueCpuMs)} ms, ${
        fmt(cli.discover.cpuMs / raw.enqueueCpuMs, 2)
      }×)`,
  );
}

/** The 200,000-item figures beside the median peak RSS at 20,000. */
function printLarge(large: CliFigures, smallPeak: number, timed: boolean): void {
  const peak = peakOf(large);
  log(
    `jobctl, ${fmt(LARGE)} items: run --discover-only ${fmt(large.discover.ms)} ms ` +
      `(peak RSS ${mb(large.discover.peakRss)} MB), run ${fmt(large.run.ms)} ms ` +
      `(peak RSS ${mb(large.run.peakRss)} MB)`,
  );
  if (timed) {
    check(
      peak <= 1.2 * smallPeak,
      `peak RSS at 200,000 ≤ 1.2× that at 20,000 (median of the rounds): ` +
        `${fmt(peak / smallPeak, 2)}×`,
    );
  }
}

/** Runs the command-line benchmark and prints each figure beside its target. */
export async function benchCli(flags: ReadonlySet<string> = new Set()): Promise<void> {
  const timed = await hasTime();
  if (!timed) log(`${TIME} not found: no peak RSS or CPU figures`);
  const root = await Deno.makeTempDir({ prefix: "jobs-cli-bench-" });
  try {
    const rounds = await smallRounds(root, timed);
    const raw = await rawBaseline(`${root}/raw`, SMALL);
    const peak = printSmall(rounds, raw, timed);
    if (flags.has("--large")) {
      printLarge(await throughCli(`${root}/large`, LARGE, timed), peak, timed);
    } else {
      log("(the 200,000-item RSS figure runs with --large)");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await benchCli(new Set(Deno.args));
