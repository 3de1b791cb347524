/** `jobctl doctor`: health checks over the config, the store and the disk, and their safe fixes. */
import type { Store } from "../db/store.ts";
import type { Config } from "../config/types.ts";
import { storeExists, storeFile } from "../db/location.ts";
import { handlerFindings, loadConfigChecked } from "./config_checks.ts";
import { DISK_LIMITS, diskFindings, type DiskLimits } from "./disk.ts";
import { type Finding, type Fixed, type Severity, shellQuote } from "./finding.ts";
import { applySafeFixes } from "./fixes.ts";
import { jobFindings } from "./job_checks.ts";
import {
  discoveryLeaseFindings,
  integrityFinding,
  leaseFindings,
  openChecked,
  walFinding,
} from "./store_checks.ts";

export type { Finding, Fixed, Severity };

/** Options of runDoctor(). */
export interface DoctorOptions {
  /** Path of jobs.yaml. */
  configPath: string;
  /** The database; default `db:` of the config. */
  dbPath?: string;
  /** Apply the safe fixes, then check again. Default false. */
  fix?: boolean;
  /** Clock; default Date.now. */
  now?: () => number;
  /** WAL size above which a warning is given. Default 64 MiB. */
  walWarnBytes?: number;
  /** Free disk space below which a warning is given. Default 1 GiB or 5%. */
  diskLimits?: DiskLimits;
}

/** What doctor found (after fixing, with `fix`) and what it fixed. */
export interface DoctorReport {
  findings: Finding[];
  fixed: Fixed[];
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Runs every check; with `fix`, applies the safe fixes and reports what is left. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const loaded = await loadConfigChecked(options.configPath);
  const config = "config" in loaded ? loaded.config : undefined;
  const findings: Finding[] = "config" in loaded
    ? handlerFindings(loaded.config)
    : [loaded.finding];
  const dbPath = options.dbPath ?? config?.db;
  const report = { findings, fixed: [] as Fixed[] };
  if (dbPath !== undefined) {
    // A store on a database server has no file on this machine whose disk could fill.
    if (storeFile(dbPath) !== null) {
      findings.push(...await diskFindings(dbPath, options.diskLimits ?? DISK_LIMITS));
    }
    const store = await storeReport(dbPath, config, options);
    findings.push(...store.findings);
    report.fixed = store.fixed;
  }
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return report;
}

/** 2 when any finding is an error, 1 when any is a warning, else 0. */
export function exitCodeOf(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.severity === "error")) return 2;
  return findings.some((f) => f.severity === "warning") ? 1 : 0;
}

async function storeReport(
  path: string,
  config: Config | undefined,
  options: DoctorOptions,
): Promise<DoctorReport> {
  if (!await storeExists(path)) {
    return {
      findings: [{
        id: "db-missing",
        severity: "info",
        title: `No database yet at "${path}"`,
        explanation: "The first run creates it; until then there is nothing else to check",
        fix: `jobctl run${config ? "" : ` --db ${shellQuote(path)}`}`,
        safeFix: false,
      }],
      fixed: [],
    };
  }
  const opened = await openChecked(path, options.fix ?? false);
  if (!opened.db) return { findings: opened.findings, fixed: opened.fixed };
  const db = opened.db;
  try {
    const now = options.now ?? Date.now;
    const check = () => storeFindings(db, path, config, { ...options, now });
    const findings = await check();
    if (!options.fix) return { findings, fixed: opened.fixed };
    const fixed = [...opened.fixed, ...await applySafeFixes(db, findings, { config, now })];
    return { findings: fixed.length > opened.fixed.length ? await check() : findings, fixed };
  } finally {
    await db.close();
  }
}

async function storeFindings(
  db: Store,
  path: string,
  config: Config | undefined,
  options: DoctorOptions & { now: () => number },
): Promise<Finding[]> {
  const damaged = await integrityFinding(db, path);
  if (damaged) return [damaged];
  const findings = [
    ...await walFinding(db, options.walWarnBytes ?? 64 * 1024 ** 2),
    ...await leaseFindings(db, options.now),
    ...await discoveryLeaseFindings(db, options.now),
  ];
  for (const job of config?.jobs ?? []) {
    findings.push(...await jobFindings(db, job, { now: options.now() }));
  }
  return findings;
}
