/** Command handlers: a program run without a shell, speaking JSON on stdin and stdout. */
import { PermanentError } from "../util/errors.ts";
import { RetryLaterError, SkipSignal } from "./outcome.ts";

/** Exit codes of the command protocol (documented in README). */
export const COMMAND_EXIT = {
  done: 0,
  skip: 10,
  permanent: 11,
  retryLater: 75,
} as const;

/** Time a command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5000;
/** How much of stderr is kept with an error. */
const STDERR_TAIL = 2000;

/** What is written to the command's stdin. */
export interface CommandInput {
  item: { key: string; data: Record<string, unknown> };
  results: Record<string, unknown>;
  context: { job: string; stage: string; mode: string; attempt: number };
}

/**
 * Runs `argv` with `input` as JSON on stdin and returns the JSON it prints on stdout. When
 * `signal` aborts, the whole process group gets SIGTERM, then SIGKILL.
 */
export async function runCommand(
  argv: readonly string[],
  input: CommandInput,
  options: { signal: AbortSignal; cwd: string },
): Promise<unknown> {
  const child = spawn(argv, options.cwd);
  const stopKilling = killOnAbort(child, options.signal);
  try {
    const [, out, err, status] = await Promise.all([
      writeInput(child, input),
      readAll(child.stdout),
      readAll(child.stderr),
      child.status,
    ]);
    options.signal.throwIfAborted();
    return interpret(argv[0], status.code, out, tail(err));
  } finally {
    stopKilling();
  }
}

function spawn(argv: readonly string[], cwd: string): Deno.ChildProcess {
  try {
    return new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (err) {
    throw new PermanentError(`Cannot start command "${argv[0]}": ${(err as Error).message}`);
  }
}

function killOnAbort(child: Deno.ChildProcess, signal: AbortSignal): () => void {
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const kill = (sig: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, sig);
    } catch { /* the group is already gone */ }
  };
  const onAbort = () => {
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return () => {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
    if (signal.aborted) kill("SIGKILL");
  };
}

async function writeInput(child: Deno.ChildProcess, input: CommandInput): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(JSON.stringify(input)));
    await writer.close();
  } catch {
    // The command may exit without reading its input; its exit code tells what happened.
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > STDERR_TAIL ? "…" + trimmed.slice(-STDERR_TAIL) : trimmed;
}

function interpret(program: string, code: number, stdout: string, stderr: string): unknown {
  const withStderr = (message: string) => stderr ? `${message}; stderr: ${stderr}` : message;
  switch (code) {
    case COMMAND_EXIT.done:
      return parseOutput(program, stdout, stderr);
    case COMMAND_EXIT.skip:
      throw new SkipSignal(skipReason(stdout, stderr));
    case COMMAND_EXIT.permanent:
      throw new PermanentError(
        withStderr(`Command "${program}" failed permanently (exit ${code})`),
      );
    case COMMAND_EXIT.retryLater:
      throw new RetryLaterError(
        withStderr(`Command "${program}" asked to retry later (exit ${code})`),
      );
    default:
      throw new Error(withStderr(`Command "${program}" exited with code ${code}`));
  }
}

function parseOutput(program: string, stdout: string, stderr: string): unknown {
  if (stdout.trim() === "") return null;
  try {
    return JSON.parse(stdout);
  } catch (err) {
    const shown = stdout.length > 200 ? stdout.slice(0, 200) + "…" : stdout;
    const note = stderr ? `; stderr: ${stderr}` : "";
    throw new PermanentError(
      `Command "${program}" printed invalid JSON on stdout (${(err as Error).message}): ` +
        `${JSON.stringify(shown)}${note}`,
    );
  }
}

function skipReason(stdout: string, stderr: string): string {
  try {
    const parsed = JSON.parse(stdout);
    if (typeof parsed?.reason === "string") return parsed.reason;
  } catch { /* no JSON reason */ }
  return stderr.split("\n").at(-1) || "skipped by command";
}
