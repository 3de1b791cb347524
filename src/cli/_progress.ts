/** The live view of a run: a table redrawn in a terminal, periodic log lines otherwise. */
import type { StageCounts, Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import type { RunActivity } from "../runner/activity.ts";
import type { Logger } from "../util/log.ts";
import type { LiveScreen } from "./_live_screen.ts";
import { progressLine, progressTable, type StageProgress } from "./_progress_view.ts";

/** How often a terminal's table is redrawn. */
const TTY_REFRESH_MS = 1000;
/** The span of a running stage's rate. */
const RATE_WINDOW_MS = 60_000;

/** Finished (done, failed or skipped) rows of a stage at a time. */
interface Sample {
  at: number;
  finished: number;
}

/** A stage's samples: the first of the run, and those the rate spans, oldest first. */
interface History {
  first: Sample;
  recent: Sample[];
}

/** Options of ProgressReader. */
export interface ProgressReaderOptions {
  /** Which handlers run and which workers have ended. */
  activity: RunActivity;
  now: () => number;
}

/** Reads the stages' counts and works out their rates from what earlier reads saw. */
export class ProgressReader {
  readonly #history = new Map<string, History>();
  #startedAt: number | undefined;

  constructor(
    readonly db: Store,
    readonly jobs: readonly JobConfig[],
    readonly options: ProgressReaderOptions,
  ) {}

  /** The progress of every stage now; the first read is where the rates start. */
  async read(): Promise<StageProgress[]> {
    const counts = await Promise.all(this.jobs.map((j) => this.db.stageStats(j.id)));
    const now = this.options.now();
    this.#startedAt ??= now;
    return this.jobs.flatMap((job, i) => counts[i].map((c) => this.#stage(job.id, c, now)));
  }

  #stage(job: string, c: StageCounts, now: number): StageProgress {
    const { activity } = this.options;
    const finished = c.done + c.failed + c.skipped;
    const history = this.#sample(`${job}/${c.stage}`, { at: now, finished });
    const running = activity.running(job, c.stage);
    const endedAt = activity.endedAt(job, c.stage);
    return {
      job,
      stage: c.stage,
      done: c.done,
      failed: c.failed,
      skipped: c.skipped,
      running,
      pending: c.pending + Math.max(0, c.inProgress - running),
      rate: endedAt === undefined
        ? perSecond(history.recent[0], { at: now, finished })
        : average(history.first, { at: endedAt, finished }),
      ended: endedAt !== undefined,
    };
  }

  /**
   * Adds `sample` to the stage's history. Samples older than a minute go, but for the newest of
   * them: the rate spans the last minute, or the time since the previous sample when longer.
   */
  #sample(key: string, sample: Sample): History {
    let history = this.#history.get(key);
    if (!history) {
      // A stage first seen after the start had no rows at the start, so none had finished.
      const first = sample.at === this.#startedAt ? sample : { at: this.#startedAt!, finished: 0 };
      history = { first, recent: [first] };
      this.#history.set(key, history);
    }
    const { recent } = history;
    if (recent[recent.length - 1] !== sample) recent.push(sample);
    while (recent.length > 1 && recent[1].at <= sample.at - RATE_WINDOW_MS) recent.shift();
    return history;
  }
}

/** Rows finished per second between two samples; undefined when no time passed. */
function perSecond(from: Sample, to: Sample): number | undefined {
  return to.at > from.at ? (to.finished - from.finished) * 1000 / (to.at - from.at) : undefined;
}

/** The rate of a stage over the run, up to its end; undefined when it finished nothing. */
function average(first: Sample, last: Sample): number | undefined {
  return last.finished > first.finished ? perSecond(first, last) : undefined;
}

/** Options of startProgress(). */
export interface ProgressOptions extends ProgressReaderOptions {
  /** The terminal to draw the table on; without one, progress lines go to `log`. */
  screen?: LiveScreen;
  log: Logger;
  /** How often progress lines are logged when there is no terminal. */
  everyMs: number;
}

/** A running display; stop() draws the final table (on a terminal) and ends it. */
export interface Progress {
  stop(): Promise<void>;
}

/** Starts the display of `jobs`' progress: reads now, then every second or `everyMs`. */
export function startProgress(
  db: Store,
  jobs: readonly JobConfig[],
  options: ProgressOptions,
): Progress {
  const reader = new ProgressReader(db, jobs, options);
  const { screen, log } = options;
  let shown = false;
  const show = async () => {
    const stages = await reader.read();
    if (screen) screen.show(stages.length ? progressTable(stages) : []);
    else if (shown) { for (const s of stages) log.info(progressLine(s)); }
    shown = true;
  };
  // One read at a time: a slow store read makes the next tick wait, not pile up.
  let current = show().catch(() => {});
  const timer = setInterval(() => {
    current = current.then(show).catch(() => {});
  }, screen ? TTY_REFRESH_MS : options.everyMs);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      clearInterval(timer);
      stopped ??= current.then(async () => {
        if (!screen) return;
        await show().catch(() => {});
        screen.close();
      });
      return stopped;
    },
  };
}
