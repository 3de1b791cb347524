/**
 * Programs run in their own process group (a new session), so that whatever they start can be
 * killed with them: on timeout or shutdown, when the program itself exits, and when this process
 * exits (killAllGroups).
 */

/** Options of runInGroup(). */
export interface GroupRunOptions {
  /** Folder the program runs in. */
  cwd: string;
  /** Written to the program's stdin, which is then closed. Default: no stdin. */
  input?: Uint8Array;
  /** When it aborts, the group is killed and runInGroup rejects with its reason at once. */
  signal: AbortSignal;
  /** Time the group gets between SIGTERM and SIGKILL. Default 5000 ms. */
  killGraceMs?: number;
  /** Characters kept of the end of stderr. Default 2000. */
  stderrChars?: number;
}

/** How a program run by runInGroup() ended. */
export interface GroupRunResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  /** The end of stderr, trimmed; starts with "…" when earlier text was dropped. */
  stderr: string;
}

/** Process groups started here whose leader has not been reaped yet. */
const live = new Set<number>();

/** Groups sent SIGTERM whose leader is not reaped yet: each settles when it is, or its grace is over. */
const terminating = new Set<Promise<void>>();

/**
 * Starts `argv` (no shell) as the leader of a new process group and resolves when it has exited
 * and its output is read. What it leaves running in its group is killed when it exits. Throws
 * at once (not as a rejection) when the program cannot be started.
 */
export function runInGroup(
  argv: readonly string[],
  options: GroupRunOptions,
): Promise<GroupRunResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const { child, killer, status } = spawnLeader(argv, options, options.input ? "piped" : "null");
  const stdout = collect(child.stdout, new BytesSink());
  const stderr = collect(child.stderr, new TailSink(options.stderrChars ?? 2000));
  if (options.input) writeInput(child.stdin, options.input);
  const finished = Promise.all([status, stdout.done, stderr.done]);
  return new Promise<GroupRunResult>((resolve, reject) => {
    const onAbort = () => {
      killer.kill();
      // Read on, keeping nothing: a closed pipe would kill with SIGPIPE a program that writes in
      // its grace ("Terminated" from a shell whose child got the SIGTERM, a last log line).
      stdout.discard();
      stderr.discard();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    finished.then(([s, out, err]) => {
      signal.removeEventListener("abort", onAbort);
      resolve({ code: s.code, signal: s.signal, stdout: out, stderr: err });
    }, (err) => {
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/** Options of startInGroup(). */
export interface GroupStartOptions {
  /** Folder the program runs in. */
  cwd: string;
  /** Time the group gets between SIGTERM and SIGKILL. Default 5000 ms. */
  killGraceMs?: number;
  /** Characters kept of the end of stderr. Default 2000. */
  stderrChars?: number;
  /** Takes each chunk of stdout, a view of a buffer reused as soon as it returns. */
  onStdout(chunk: Uint8Array): void;
}

/** A long-lived program started by startInGroup(), spoken to over its stdin and stdout. */
export interface GroupProcess {
  pid: number;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Resolves when stdout has ended (or could not be read further). */
  stdoutEnded: Promise<void>;
  /** Resolves when the leader has exited and stderr is read to its end. */
  status: Promise<Deno.CommandStatus>;
  /** The end of what it printed on stderr since the last call, trimmed as in runInGroup(). */
  takeStderr(): string;
  /** SIGTERM to the group, then SIGKILL after the grace (nothing once the leader has exited). */
  kill(): void;
}

/**
 * Starts `argv` (no shell) as the leader of a new process group that stays up until it exits or
 * is killed; like runInGroup(), what it leaves in its group is killed when it exits, and
 * killAllGroups() reaches it. Throws at once when the program cannot be started.
 */
export function startInGroup(argv: readonly string[], options: GroupStartOptions): GroupProcess {
  const { child, killer, status: exited } = spawnLeader(argv, options, "piped");
  const tail = new TailSink(options.stderrChars ?? 2000);
  const stderr = collect(child.stderr, tail);
  const stdout = collect(child.stdout, { push: options.onStdout, result: () => {} });
  return {
    pid: child.pid,
    stdin: child.stdin.getWriter(),
    stdoutEnded: stdout.done.catch(() => {}),
    status: Promise.all([exited, stderr.done.catch(() => "")]).then(([s]) => s),
    takeStderr: () => tail.take(),
    kill: () => killer.kill(),
  };
}

/**
 * Spawns `argv` as the leader of a new process group, known to killAllGroups() until it is
 * reaped; its status resolves once the leader has exited and the rest of its group is killed.
 */
function spawnLeader(
  argv: readonly string[],
  options: { cwd: string; killGraceMs?: number },
  stdin: "piped" | "null",
) {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    stdin,
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const pgid = child.pid;
  live.add(pgid);
  const graceMs = options.killGraceMs ?? 5000;
  const killer = groupKiller(pgid, graceMs);
  const status = child.status.finally(() => {
    killer.leaderExited();
    live.delete(pgid);
  });
  let sentTerm = false;
  const kill = () => {
    if (sentTerm || !live.has(pgid)) return;
    sentTerm = true;
    killer.kill();
    awaitTermination(status, graceMs + 1000);
  };
  return { child, killer: { kill }, status };
}

/** Adds to `terminating` a promise that settles with `status`, or after `capMs`. */
function awaitTermination(status: Promise<unknown>, capMs: number): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled: Promise<void> = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, capMs);
    status.then(() => resolve(), () => resolve());
  }).then(() => {
    clearTimeout(timer);
    terminating.delete(settled);
  });
  terminating.add(settled);
}

/**
 * Resolves when every group sent SIGTERM has exited, or been given its grace and SIGKILL (plus a
 * second for the kernel to reap it).
 */
export async function groupsTerminated(): Promise<void> {
  while (terminating.size > 0) await Promise.all(terminating);
}

/** Sends SIGKILL to every process group started here that may still have members. */
export function killAllGroups(): void {
  for (const pgid of live) signalGroup(pgid, "SIGKILL");
  live.clear();
}

/** SIGTERM, then SIGKILL after `graceMs`; SIGKILL at once to what is left when the leader exits. */
function groupKiller(pgid: number, graceMs: number): { kill(): void; leaderExited(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reaped = false;
  return {
    kill() {
      // Once the leader is reaped its pid, and so the group id, may be reused.
      if (timer !== undefined || reaped) return;
      signalGroup(pgid, "SIGTERM");
      timer = setTimeout(() => signalGroup(pgid, "SIGKILL"), graceMs);
    },
    leaderExited() {
      reaped = true;
      clearTimeout(timer);
      signalGroup(pgid, "SIGKILL");
    },
  };
}

function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch { /* the group is gone */ }
}

async function writeInput(stdin: WritableStream<Uint8Array>, input: Uint8Array): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(input);
    await writer.close();
  } catch {
    // The program may exit without reading its input; its exit code tells what happened.
  }
}

interface Sink<T> {
  /** Takes `chunk`, a view of a buffer that is reused as soon as push() returns. */
  push(chunk: Uint8Array): void;
  result(): T;
}

const READ_BUFFER_BYTES = 65_536;

/**
 * Reads `stream` into `sink` until it ends, into one reused buffer: 200 MB of output then
 * allocate nothing but what the sink keeps. After discard() it reads on to the end and keeps
 * nothing more, so that the writer never meets a closed pipe.
 */
function collect<T>(
  stream: ReadableStream<Uint8Array>,
  sink: Sink<T>,
): { done: Promise<T>; discard(): void } {
  const reader = stream.getReader({ mode: "byob" });
  let keep = true;
  const done = (async () => {
    let buffer = new Uint8Array(READ_BUFFER_BYTES);
    while (true) {
      const { value, done } = await reader.read(buffer);
      if (done) return sink.result();
      if (keep) sink.push(value);
      buffer = new Uint8Array(value.buffer);
    }
  })();
  done.catch(() => {}); // a failed read is not an error anyone waits for once discarded
  return { done, discard: () => void (keep = false) };
}

/** All of the output, as text. */
class BytesSink implements Sink<string> {
  readonly #chunks: Uint8Array[] = [];

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk.slice());
  }

  result(): string {
    return new TextDecoder().decode(concat(this.#chunks));
  }
}

/** The last `max` characters of the output (trimmed), holding at most about 4 × max of them. */
class TailSink implements Sink<string> {
  readonly #decoder = new TextDecoder();
  #text = "";
  #dropped = false;

  constructor(readonly max: number) {}

  push(chunk: Uint8Array): void {
    // 16 × max bytes hold at least 4 × max characters: what comes before cannot be kept.
    const room = 16 * this.max;
    if (chunk.length > room) {
      this.#decoder.decode(); // drops a character split at the end of the previous chunk
      this.#text = this.#decoder.decode(chunk.subarray(-room), { stream: true });
      this.#dropped = true;
    } else {
      this.#text += this.#decoder.decode(chunk, { stream: true });
    }
    // Twice what is kept, so that trailing whitespace (trimmed at the end) rarely costs text.
    if (this.#text.length > 4 * this.max) {
      this.#text = this.#text.slice(-2 * this.max);
      this.#dropped = true;
    }
  }

  /** What result() would return for what came since the last take(); then starts anew. */
  take(): string {
    const text = this.#shown(this.#text);
    this.#text = "";
    this.#dropped = false;
    return text;
  }

  result(): string {
    return this.#shown(this.#text + this.#decoder.decode());
  }

  #shown(all: string): string {
    const text = all.trimEnd();
    const body = this.#dropped ? text : text.trimStart();
    return this.#dropped || body.length > this.max ? "…" + body.slice(-this.max) : body;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
