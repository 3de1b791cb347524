/** One long-lived process of a worker stage, running one item at a time over the line protocol. */
import { PermanentError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import { type GroupProcess, startInGroup } from "../util/process_group.ts";
import { quote } from "../util/quote.ts";
import { RetryLaterError, SkipSignal } from "./outcome.ts";
import { parseMessage, ProtocolError, type WorkerFinal } from "./worker_protocol.ts";
import type { BatchInput, CommandInput } from "./command_handler.ts";

/** One item handed to a worker process. */
export interface WorkerCall {
  request: CommandInput | BatchInput;
  /** Aborts on the stage's timeout and at the end of the shutdown grace: the group is killed. */
  signal: AbortSignal;
  log: Logger;
  cost(usd: number, meta?: Record<string, unknown>): void;
}

/** Options of WorkerProcess.start(). */
export interface WorkerProcessOptions {
  cwd: string;
  /** Names the stage and the process in messages: `worker of stage "x"`. */
  label: string;
  /** Characters of stderr kept with an item's error. */
  stderrChars: number;
  /** Told of a protocol problem or an exit while no item runs (the process is then replaced). */
  onIdleProblem(message: string): void;
}

interface Current {
  id: number;
  call: WorkerCall;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A running worker process; once `usable` is false it takes no more items. */
export class WorkerProcess {
  /** Items it answered with a final message. */
  finished = 0;
  /** False once it exited, broke the protocol, was killed or is closing. */
  usable = true;
  /** True when it ended on its own or broke the protocol (not closed or killed by a timeout). */
  failed = false;
  /** Resolves when the process has exited and its output is read. */
  readonly exited: Promise<void>;
  readonly #proc: GroupProcess;
  readonly #options: WorkerProcessOptions;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  #buffered = "";
  #nextId = 1;
  #current: Current | undefined;
  #stopping = false;

  /** Starts `argv`; a program that cannot be started is a PermanentError. */
  constructor(argv: readonly string[], options: WorkerProcessOptions) {
    this.#options = options;
    try {
      this.#proc = startInGroup(argv, {
        cwd: options.cwd,
        stderrChars: options.stderrChars,
        onStdout: (chunk) => this.#onStdout(chunk),
      });
    } catch (err) {
      throw new PermanentError(`Cannot start command "${argv[0]}": ${(err as Error).message}`);
    }
    this.exited = this.#ended();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** Sends `call` and resolves with its result, or rejects as its outcome says. */
  run(call: WorkerCall): Promise<unknown> {
    const id = this.#nextId++;
    this.#proc.takeStderr(); // what came before belongs to no item
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#stop();
        this.#proc.kill();
        this.#settle()?.reject(call.signal.reason);
      };
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        call.signal.removeEventListener("abort", onAbort);
        settle(value);
      };
      if (call.signal.aborted) return reject(call.signal.reason);
      call.signal.addEventListener("abort", onAbort, { once: true });
      this.#current = { id, call, resolve: done(resolve), reject: done(reject) };
      const line = JSON.stringify({ id, ...call.request }) + "\n";
      // A process that is gone cannot take it; its exit ends the item.
      this.#proc.stdin.write(this.#encoder.encode(line)).catch(() => {});
    });
  }

  /**
   * Closes stdin, the worker's cue to exit; after `graceMs` the group gets SIGTERM, then SIGKILL.
   * Resolves when the process has exited.
   */
  async close(graceMs: number): Promise<void> {
    this.#stop();
    this.#proc.stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
    this.#proc.kill();
    await this.exited;
  }

  /** Takes no more items and treats its exit as expected. */
  #stop(): void {
    this.usable = false;
    this.#stopping = true;
  }

  /** Takes a chunk of stdout: each complete line is a message. */
  #onStdout(chunk: Uint8Array): void {
    this.#buffered += this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    let end: number;
    while ((end = this.#buffered.indexOf("\n", start)) >= 0) {
      const line = this.#buffered.slice(start, end);
      start = end + 1;
      if (this.usable && line.trim() !== "") this.#onLine(line);
    }
    this.#buffered = this.#buffered.slice(start);
  }

  /** Waits for stdout to end, then ends the running item as the exit says. */
  async #ended(): Promise<void> {
    await this.#proc.stdoutEnded;
    this.usable = false;
    const status = await this.#proc.status;
    const current = this.#settle();
    if (this.#stopping && !current) return;
    this.failed ||= !this.#stopping;
    const how = status.signal
      ? `was killed by ${status.signal}`
      : `exited with code ${status.code}`;
    const between = current ? "" : " between items";
    const message = this.#withStderr(
      `The ${this.#options.label}${this.#on(current)} ${how}${between}`,
    );
    if (current) current.reject(new Error(message));
    else this.#options.onIdleProblem(message);
  }

  #onLine(line: string): void {
    const current = this.#current;
    try {
      const message = parseMessage(line);
      if (message.id !== current?.id) {
        const running = current ? `the item running has id ${current.id}` : "no item is running";
        throw new ProtocolError(
          `sent a message for id ${message.id}, but ${running}: ${quote(line)}`,
        );
      }
      if (message.kind === "log") {
        current.call.log[message.level](message.message, message.data);
      } else if (message.kind === "cost") {
        current.call.cost(message.usd, message.meta);
      } else {
        this.finished++;
        this.#finish(this.#settle()!, message);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.failed = true;
      this.#stop();
      this.#proc.kill();
      const problem = `The ${this.#options.label}${this.#on(current)} ${err.message}`;
      const running = this.#settle();
      if (running) running.reject(new PermanentError(this.#withStderr(problem)));
      else this.#options.onIdleProblem(problem);
    }
  }

  #finish(current: Current, message: WorkerFinal): void {
    if (message.kind === "result") return current.resolve(message.result);
    if (message.kind === "skip") return current.reject(new SkipSignal(message.reason));
    // What it printed on stderr before it answered may still be on its way: one turn of the
    // event loop lets a read of what is already in the pipe complete.
    setTimeout(() => current.reject(this.#failure(message)), 0);
  }

  #failure(message: Exclude<WorkerFinal, { kind: "result" | "skip" }>): Error {
    const text = this.#withStderr(message.message);
    switch (message.kind) {
      case "fail":
        return new PermanentError(text);
      case "error":
        return new Error(text);
      case "retry_later":
        return new RetryLaterError(
          text,
          message.after_ms === undefined ? undefined : Math.ceil(message.after_ms),
        );
    }
  }

  /** The running item, which is then no longer running. */
  #settle(): Current | undefined {
    const current = this.#current;
    this.#current = undefined;
    return current;
  }

  #on(current: Current | undefined): string {
    if (!current) return "";
    const { request } = current.call;
    if ("item" in request) return `, running item ${quote(request.item.key)},`;
    const [first] = request.items;
    return `, running a batch of ${request.items.length} from item ${quote(first.key)},`;
  }

  #withStderr(message: string): string {
    const stderr = this.#proc.takeStderr();
    return stderr ? `${message}; stderr: ${stderr}` : message;
  }
}
