/**
 * The processes of one worker stage: up to `concurrency` long-lived programs, started when an
 * item needs one, restarted with backoff after a crash, replaced after a timeout, recycled after
 * `max_items`, and closed (stdin, grace period, SIGTERM, SIGKILL) at the end of the run.
 */
import type { Logger } from "../util/log.ts";
import { outsideHandlers } from "./handler_guard.ts";
import { sleep } from "../util/time.ts";
import { type WorkerCall, WorkerProcess } from "./_worker_process.ts";

/** Options of a WorkerPool. */
export interface WorkerPoolOptions {
  argv: readonly string[];
  /** Folder the programs run in (the jobs.yaml folder). */
  cwd: string;
  stage: string;
  /** Most processes at once: the stage's concurrency. */
  concurrency: number;
  /** A process is replaced after this many items. Default: never. */
  maxItems?: number;
  /** Time a process gets to exit after its stdin is closed, before SIGTERM. */
  closeGraceMs: number;
  log: Logger;
}

/** First wait before a process that failed is started again; doubles up to RESTART_MAX_MS. */
export const RESTART_FIRST_MS = 200;
const RESTART_MAX_MS = 10_000;
/** Characters of stderr kept with an item's error (as for command handlers). */
const STDERR_TAIL = 2000;

interface Slot {
  process: WorkerProcess | undefined;
  busy: boolean;
  /** Processes of this slot that failed in a row, since an item was last answered. */
  failures: number;
}

/** Runs items on a stage's worker processes. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[];
  /** Every process started that has not exited yet. */
  readonly #alive = new Set<WorkerProcess>();
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.#slots = Array.from(
      { length: options.concurrency },
      () => ({ process: undefined, busy: false, failures: 0 }),
    );
  }

  /** Runs `call` on a free process, started (after a backoff when its slot failed) if needed. */
  async run(call: WorkerCall): Promise<unknown> {
    const slot = await this.#acquire();
    try {
      const process = await this.#ready(slot, call.signal);
      try {
        return await process.run(call);
      } finally {
        this.#after(slot, process);
      }
    } finally {
      slot.busy = false;
      this.#waiting.shift()?.();
    }
  }

  /** Closes every process and resolves when all have exited; no process is started after. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#alive].map((p) => p.close(this.#options.closeGraceMs)));
  }

  async #acquire(): Promise<Slot> {
    while (true) {
      const slot = this.#slots.find((s) => !s.busy);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
  }

  async #ready(slot: Slot, signal: AbortSignal): Promise<WorkerProcess> {
    if (slot.process) this.#after(slot, slot.process); // it may have exited while idle
    if (slot.process) return slot.process;
    if (slot.failures) {
      await sleep(Math.min(RESTART_FIRST_MS * 2 ** (slot.failures - 1), RESTART_MAX_MS), signal);
    }
    if (this.#closed) throw new Error(`The workers of stage "${this.#options.stage}" are closed`);
    return slot.process = this.#start();
  }

  #start(): WorkerProcess {
    const { argv, cwd, stage, log } = this.#options;
    // Started for one item, it serves many: its reads must not run in that item's scope.
    const process = outsideHandlers(() =>
      new WorkerProcess(argv, {
        cwd,
        label: `worker of stage "${stage}"`,
        stderrChars: STDERR_TAIL,
        onIdleProblem: (message) => log.error(message, { stage }),
      })
    );
    this.#alive.add(process);
    process.exited.finally(() => this.#alive.delete(process));
    return process;
  }

  /** After an item (or before one): forgets a process that ended, recycles one at max_items. */
  #after(slot: Slot, process: WorkerProcess): void {
    const { maxItems, closeGraceMs } = this.#options;
    if (process.usable && maxItems !== undefined && process.finished >= maxItems) {
      process.close(closeGraceMs);
    }
    if (process.usable) {
      slot.failures = 0;
      return;
    }
    if (process.failed) slot.failures++;
    if (slot.process === process) slot.process = undefined;
  }
}
