/**
 * Rebuilding a SQLite file that frees no pages by itself. VACUUM attaches a scratch database,
 * which Deno allows only with every permission, so the rows are copied into a new file made
 * with incremental freeing, which then takes the old one's place.
 */
import { connect } from "./mod.ts";
import type { SqliteConn } from "./connection.ts";
import { sqliteTransfer } from "./transfer.ts";
import { StoreError } from "../../util/errors.ts";
import { hostName, isProcessAlive } from "../../util/process.ts";

/** Copies the store of `s` into a new file, puts it in the old one's place and reopens it. */
export async function rebuildFile(s: SqliteConn): Promise<void> {
  refuseWhileRunning(s);
  const path = s.location;
  const scratch = `${path}.rebuild`;
  await Deno.remove(scratch).catch(() => {});
  const target = connect(scratch);
  // Writers of other processes wait until the copy is in place (and none should be there).
  s.conn.exec("BEGIN IMMEDIATE");
  try {
    await sqliteTransfer(target).importRows(sqliteTransfer(s).exportRows());
    target.conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (err) {
    s.conn.exec("ROLLBACK");
    target.close();
    await Deno.remove(scratch).catch(() => {});
    throw err;
  }
  target.close();
  s.conn.exec("ROLLBACK");
  // Closed first: the old file's write-ahead log must not be read as the new file's.
  s.close();
  for (const suffix of ["-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  await Deno.rename(scratch, path);
  for (const suffix of ["-wal", "-shm"]) await Deno.remove(scratch + suffix).catch(() => {});
  s.replace(connect(path).conn);
}

/** A run still working on the file would go on writing into the old one: refuse. */
function refuseWhileRunning(s: SqliteConn): void {
  const open = s.stmt("SELECT host, pid, pid_start FROM runs WHERE ended_at IS NULL").all() as {
    host: string;
    pid: number;
    pid_start: string | null;
  }[];
  const here = hostName();
  const live = open.find((r) => r.host !== here || isProcessAlive(r.pid, r.pid_start));
  if (live) {
    throw new StoreError(
      `Database "${s.location}" is in use by a run (pid ${live.pid} on ${live.host}): stop ` +
        `every run and dashboard before rewriting it`,
      { problem: "locked" },
    );
  }
}
