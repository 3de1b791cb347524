/** Config checks: jobs.yaml loads, module handler files exist, command programs can be found. */
import { resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import type { Config, JobConfig } from "../config/types.ts";
import { ConfigError } from "../util/errors.ts";
import { isFile, type ProgramProblem, programProblem } from "../util/programs.ts";
import { plural } from "../util/format.ts";
import { type Finding, shellQuote } from "./finding.ts";

/** The config at `path`, or the finding that it does not load (other errors are thrown). */
export async function loadConfigChecked(
  path: string,
): Promise<{ config: Config } | { finding: Finding }> {
  try {
    return { config: await loadConfig(path) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      finding: {
        id: "config-invalid",
        severity: "error",
        title: `The config does not load: ${plural(err.problems.length, "problem")}`,
        explanation: `${err.problems.join("\n")}\nNo job runs until these are fixed; the ` +
          "checks of jobs and stages were skipped",
        fix: `edit the config at the positions above, then run: jobctl validate --config ${
          shellQuote(path)
        }`,
        safeFix: false,
      },
    };
  }
}

/** Findings for handler files and programs of every job that cannot be found. */
export function handlerFindings(config: Config): Finding[] {
  return config.jobs.flatMap((job) => [...stageFindings(job), ...discoveryFindings(config, job)]);
}

function stageFindings(job: JobConfig): Finding[] {
  const findings: Finding[] = [];
  for (const stage of job.stages) {
    const where = `job "${job.id}", stage "${stage.name}"`;
    if (stage.handler.kind === "module" && !isFile(stage.handler.path)) {
      findings.push({
        id: "handler-missing",
        severity: "error",
        job: job.id,
        title: `Handler file of stage "${stage.name}" is missing`,
        explanation: `The module "${stage.handler.path}" (${where}) does not exist, so every ` +
          "item fails at this stage",
        fix: `create "${stage.handler.path}" or correct the handler of ${where} in the config`,
        safeFix: false,
      });
    }
    if (stage.handler.kind === "command") {
      const program = stage.handler.argv[0];
      const problem = programProblem(program);
      if (problem) findings.push(programFinding(job.id, program, where, problem));
    }
  }
  return findings;
}

function discoveryFindings(config: Config, job: JobConfig): Finding[] {
  const command = job.discovery.options.command;
  if (job.discovery.strategy !== "command" || !Array.isArray(command)) return [];
  const program = String(command[0]);
  const path = program.includes("/") ? resolve(config.dir, program) : program;
  const problem = programProblem(path);
  return problem ? [programFinding(job.id, path, `job "${job.id}", discovery`, problem)] : [];
}

function programFinding(
  jobId: string,
  program: string,
  where: string,
  reason: ProgramProblem,
): Finding {
  const fix = {
    "is not on PATH": `install "${program}" or correct the command of ${where} in the config`,
    "is not executable": `chmod +x ${shellQuote(program)}`,
    "does not exist": `correct the command of ${where} in the config`,
  }[reason];
  return {
    id: "command-not-found",
    severity: "error",
    job: jobId,
    title: `Program "${program}" ${reason}`,
    explanation: `The command of ${where} runs "${program}", which ${reason}, so it fails ` +
      "every time",
    fix,
    safeFix: false,
  };
}
