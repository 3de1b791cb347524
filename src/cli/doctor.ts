/** `jobctl doctor`: health checks, each with the command that fixes it; --fix applies the safe ones. */
import { type DoctorReport, exitCodeOf, type Finding, runDoctor } from "../doctor/mod.ts";
import { configPath, parseCommandArgs } from "./_args.ts";
import { COMMON_HELP, EXIT } from "./mod.ts";
import { plural } from "../util/format.ts";

/** What `jobctl doctor --help` prints. */
export const HELP = `Usage: jobctl doctor [--fix] [--json]

Checks the database (integrity, write-ahead log, schema, abandoned claims), every job
(failures grouped by error, items stuck behind a failure, stale results, pauses, budgets,
overdue discovery, missing stage rows), the config (handler files, programs) and disk space.
Each finding comes with the command that fixes it.
  --fix    apply the safe fixes (release abandoned claims, add missing stage rows,
           checkpoint the write-ahead log), then check again
  --json   print { findings, fixed } as JSON
Exit code: 0 healthy, 1 warnings, 2 errors.

${COMMON_HELP}`;

const LABEL: Record<Finding["severity"], string> = {
  error: "ERROR  ",
  warning: "WARNING",
  info: "INFO   ",
};

/** Runs `jobctl doctor`; the exit code says the worst severity found. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs("doctor", args, { fix: { type: "boolean" } });
  const report = await runDoctor({
    configPath: configPath(values.config),
    dbPath: values.db ?? Deno.env.get("JOBS_DB"),
    fix: values.fix ?? false,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return [EXIT.ok, EXIT.failed, EXIT.usage][exitCodeOf(report.findings)];
}

/** The report as text: what was fixed, each finding with its fix, and a summary line. */
function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const fixed of report.fixed) {
    lines.push(`FIXED   ${fixed.job ? `[${fixed.job}] ` : ""}${fixed.action}`);
  }
  for (const f of report.findings) {
    lines.push(`${LABEL[f.severity]} ${f.title}`);
    for (const line of f.explanation.split("\n")) lines.push(`        ${line}`);
    lines.push(`        fix${f.safeFix ? " (safe, applied by --fix)" : ""}: ${f.fix}`);
  }
  const count = (s: Finding["severity"]) => report.findings.filter((f) => f.severity === s).length;
  lines.push(
    report.findings.length
      ? [
        plural(count("error"), "error"),
        plural(count("warning"), "warning"),
        plural(count("info"), "note"),
      ]
        .join(", ")
      : "Healthy: no problems found",
  );
  return lines.join("\n");
}
