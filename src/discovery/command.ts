/** command: a program's stdout (JSON lines or a JSON array) as items; run without a shell. */
import { resolve } from "node:path";
import { z } from "zod";
import { parseDuration } from "../util/units.ts";
import { BaseDiscovery, DiscoveryError, itemOptions, type RawItem } from "./base.ts";
import { recordItems } from "./_records.ts";
import { timeoutString } from "./_options.ts";
import { type GroupRunResult, runInGroup } from "../util/process_group.ts";

/** Options of the command strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  /** Program and arguments; a program containing "/" is relative to jobs.yaml. */
  command: z.array(z.string().min(1)).min(1),
  /** Time the program may run before it is killed; default "60s". */
  timeout: timeoutString.optional(),
});

/** Parsed options of the command strategy. */
export type CommandOptions = z.infer<typeof schema>;

const STDERR_TAIL = 500;

/** Runs the program in the jobs.yaml folder; each JSON object it prints is one item. */
export class CommandDiscovery extends BaseDiscovery<CommandOptions> {
  /** Items from stdout: key/id field, url field, or the configured `key`. */
  async fetchItems(): Promise<Iterable<RawItem>> {
    const [program, ...args] = this.options.command;
    const name = program.includes("/") ? resolve(this.env.configDir, program) : program;
    const timeoutMs = parseDuration(this.options.timeout ?? "60s");
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.env.signal ? AbortSignal.any([this.env.signal, timeout]) : timeout;
    let running: Promise<GroupRunResult>;
    try {
      running = runInGroup([name, ...args], {
        cwd: this.env.configDir,
        signal,
        stderrChars: STDERR_TAIL,
      });
    } catch (err) {
      const reason = err instanceof Deno.errors.NotFound ? "program not found" : String(err);
      throw new DiscoveryError(`Cannot run "${program}": ${reason}`, { cause: err });
    }
    let output: GroupRunResult;
    try {
      output = await running;
    } catch (err) {
      if (this.env.signal?.aborted) throw this.env.signal.reason;
      if (!timeout.aborted) throw err;
      throw new DiscoveryError(`Command "${program}" timed out after ${timeoutMs / 1000}s`);
    }
    if (output.code !== 0 || output.signal) {
      const status = output.signal
        ? `was killed by ${output.signal}`
        : `exited with code ${output.code}`;
      const stderr = output.stderr;
      throw new DiscoveryError(`Command "${program}" ${status}${stderr ? `: ${stderr}` : ""}`);
    }
    const stdout = new TextEncoder().encode(output.stdout);
    return recordItems(stdout, `the output of "${program}"`);
  }
}
