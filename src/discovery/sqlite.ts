/** sqlite: the rows of a read-only query against another SQLite file. */
import { resolve } from "node:path";
// Reading a user's own database file for discovery, never the job store (which only src/db/ opens).
import { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { BaseDiscovery, DiscoveryError, itemOptions, type RawItem, recordItem } from "./base.ts";

/** Options of the sqlite strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  /** The SQLite file, relative to jobs.yaml; opened read-only. */
  path: z.string().min(1),
  /** The SELECT whose rows are the items. */
  query: z.string().min(1),
});

/** Parsed options of the sqlite strategy. */
export type SqliteOptions = z.infer<typeof schema>;

/** One item per row: key from the `key` option, a "key" or "id" column, or hashUrl of "url". */
export class SqliteDiscovery extends BaseDiscovery<SqliteOptions> {
  /** The query's rows in the order it returns them. */
  fetchItems(): Promise<RawItem[]> {
    const path = resolve(this.env.configDir, this.options.path);
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      const rows = db.prepare(this.options.query).all() as Record<string, unknown>[];
      return Promise.resolve(rows.map((row) => recordItem({ ...row })));
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).replace(`: ${path}`, "");
      throw new DiscoveryError(`Cannot query "${path}": ${reason}`, { cause: err });
    } finally {
      db?.close();
    }
  }
}
