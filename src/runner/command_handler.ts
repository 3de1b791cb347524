/** Command handlers: a program run without a shell, speaking JSON on stdin and stdout. */
import { PermanentError } from "../util/errors.ts";
import { type GroupRunResult, runInGroup } from "../util/process_group.ts";
import { printable, quote } from "../util/quote.ts";
import { RetryLaterError, SkipSignal } from "./outcome.ts";

/** Exit codes of the command protocol (documented in README). */
export const COMMAND_EXIT = {
  done: 0,
  skip: 10,
  permanent: 11,
  retryLater: 75,
} as const;

/** How much of stderr is kept with an error. */
const STDERR_TAIL = 2000;

/** What is written to the command's stdin. */
export interface CommandInput {
  item: { key: string; data: Record<string, unknown> };
  results: Record<string, unknown>;
  context: { job: string; stage: string; mode: string; attempt: number };
}

/** What is written to the command's stdin on a `batch:` stage. */
export interface BatchInput {
  items: { key: string; data: Record<string, unknown>; results: unknown; attempt: number }[];
  context: { job: string; stage: string; mode: string };
}

/**
 * Runs `argv` with `input` as JSON on stdin and returns the JSON it prints on stdout. It runs in
 * its own process group: when `signal` aborts, the whole group gets SIGTERM, then SIGKILL.
 */
export async function runCommand(
  argv: readonly string[],
  input: CommandInput | BatchInput,
  options: { signal: AbortSignal; cwd: string },
): Promise<unknown> {
  let running: Promise<GroupRunResult>;
  try {
    running = runInGroup(argv, {
      cwd: options.cwd,
      input: new TextEncoder().encode(JSON.stringify(input)),
      signal: options.signal,
      stderrChars: STDERR_TAIL,
    });
  } catch (err) {
    throw new PermanentError(`Cannot start command "${argv[0]}": ${(err as Error).message}`);
  }
  const { code, stdout, stderr } = await running;
  return interpret(argv[0], code, stdout, stderr);
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
    const note = stderr ? `; stderr: ${stderr}` : "";
    throw new PermanentError(
      `Command "${program}" printed invalid JSON on stdout ` +
        `(${printable((err as Error).message)}): ${quote(stdout)}${note}`,
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
