/** Store checks: the database opens, its schema, integrity, WAL size and abandoned claims. */
import type { Store } from "../db/store.ts";
import { openDb } from "../db/mod.ts";
import { storeFile } from "../db/location.ts";

import { StoreError } from "../util/errors.ts";
import { DOCTOR_FIX, type Finding, type Fixed, formatBytes, shellQuote } from "./finding.ts";
import { plural } from "../util/format.ts";

/** What opening the store for the checks gave: the store, or why not, and a migration done. */
export interface OpenedStore {
  db?: Store;
  findings: Finding[];
  fixed: Fixed[];
}

/**
 * Opens the database read-only, or for writing when `fix` is set. A schema older than this
 * program's is a finding, migrated (the one write every command does on open) with `fix`.
 */
export async function openChecked(path: string, fix: boolean): Promise<OpenedStore> {
  try {
    const db = await openDb(path, { readOnly: true });
    if (!fix) return { db, findings: [], fixed: [] };
    await db.close();
    return { db: await openDb(path), findings: [], fixed: [] };
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const { found: version, expected } = err.versions ?? { found: NaN, expected: NaN };
    if (version < expected && fix) {
      return {
        db: await openDb(path),
        findings: [],
        fixed: [{
          id: "schema-version",
          action: `migrated the database from schema version ${version} to ${expected}`,
        }],
      };
    }
    return { findings: [openFinding(path, err.message, version, expected)], fixed: [] };
  }
}

function openFinding(path: string, message: string, version: number, expected: number): Finding {
  if (version < expected) {
    return {
      id: "schema-version",
      severity: "warning",
      title: `The database has schema version ${version}, this program writes ${expected}`,
      explanation: `${message}. The next run migrates it; doctor checks nothing else until then`,
      fix: DOCTOR_FIX,
      safeFix: true,
    };
  }
  if (version > expected) {
    return {
      id: "schema-version",
      severity: "error",
      title: `The database has schema version ${version}, newer than this program's ${expected}`,
      explanation: `${message}. A newer jobctl wrote it; this one refuses to touch it`,
      fix: "install the jobctl version that wrote this database",
      safeFix: false,
    };
  }
  return {
    id: "db-open",
    severity: "error",
    title: "The database cannot be opened",
    explanation: message,
    fix: storeFile(path) === null
      ? "check that the server is up and reachable from here, and the URL's user and " +
        "password (or $PGPASSWORD)"
      : `check the file and its folder's permissions: ls -l ${shellQuote(path)}*`,
    safeFix: false,
  };
}

/** The quick_check finding; when there is one, other store checks would read damaged pages. */
export async function integrityFinding(db: Store, path: string): Promise<Finding | null> {
  const problems = await db.integrityProblems();
  if (!problems.length) return null;
  const recovered = path.replace(/(\.\w+)?$/, ".recovered$1");
  return {
    id: "db-integrity",
    severity: "error",
    title: `The database is damaged: quick_check found ${plural(problems.length, "problem")}`,
    explanation: `${problems.slice(0, 5).join("\n")}\nStop every run, recover what is readable ` +
      "into a new file, keep the damaged one aside and move the recovered one in its place; " +
      "the other checks were skipped",
    fix: `sqlite3 ${shellQuote(path)} .recover | sqlite3 ${shellQuote(recovered)}`,
    safeFix: false,
  };
}

/** A warning when the write-ahead log has grown past `warnBytes`. */
export async function walFinding(db: Store, warnBytes: number): Promise<Finding[]> {
  const bytes = await db.walSize();
  if (bytes <= warnBytes) return [];
  return [{
    id: "wal-size",
    severity: "warning",
    title: `The write-ahead log is ${formatBytes(bytes)}`,
    explanation: `SQLite copies the log into the database at checkpoints; a log over ${
      formatBytes(warnBytes)
    } means long-lived readers kept checkpoints from finishing. It slows reads and uses disk`,
    fix: DOCTOR_FIX,
    safeFix: true,
  }];
}

/** A warning per job with claims of expired leases or of processes that are gone. */
export async function leaseFindings(db: Store, now: () => number): Promise<Finding[]> {
  return (await db.leaseProblems({ now })).map((p) => ({
    id: "leases-expired",
    severity: "warning",
    job: p.jobId,
    title: `Job "${p.jobId}" has ${plural(p.expired + p.deadProcess, "abandoned claim")}`,
    explanation:
      `${plural(p.expired, "claim")} with an expired lease and ${
        plural(p.deadProcess, "claim")
      } of processes on this host that no longer run. Their stages stay in progress, and no ` +
      "run works on them, until they are released",
    fix: DOCTOR_FIX,
    safeFix: true,
  }));
}

/** A warning per job whose discovery lease is held by a process on this host that is gone. */
export async function discoveryLeaseFindings(db: Store, now: () => number): Promise<Finding[]> {
  return (await db.deadDiscoveryLeases({ now })).map((lease) => ({
    id: "discovery-lease-abandoned",
    severity: "warning",
    job: lease.jobId,
    title: `Job "${lease.jobId}" has a discovery lease of a process that is gone`,
    explanation:
      `Process ${lease.pid} on ${lease.host} (run ${lease.owner}) held it until ${
        new Date(lease.leaseUntil).toISOString()
      }. The next run on this host releases it before discovering; a run elsewhere skips the ` +
      "job's discovery until it is released or expires",
    fix: DOCTOR_FIX,
    safeFix: true,
  }));
}
