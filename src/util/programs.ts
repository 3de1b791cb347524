/** Whether a program can be started: the same lookup as starting it without a shell. */
import { delimiter, join } from "node:path";

/** Why a program cannot be started. */
export type ProgramProblem = "is not on PATH" | "does not exist" | "is not executable";

/**
 * Why `program` cannot be started, or undefined when it can: a program containing "/" is that
 * file (it must be executable), any other name is looked up on $PATH.
 */
export function programProblem(program: string): ProgramProblem | undefined {
  if (program.includes("/")) {
    if (isExecutable(program)) return undefined;
    return isFile(program) ? "is not executable" : "does not exist";
  }
  const dirs = (Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean);
  return dirs.some((dir) => isExecutable(join(dir, program))) ? undefined : "is not on PATH";
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** Whether `path` is a file (following symlinks). */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
