/**
 * Where a test's production store lives: `jobs.sqlite` in the test's folder or, when the suite
 * runs on PostgreSQL (JOBS_TEST_PG_URL), a scratch schema of that server, dropped afterwards.
 */
import { join } from "node:path";
import { scratchSchema, TEST_PG_URL } from "./db/_helpers.ts";

/** A test's store location and what the program under test needs in its environment. */
export interface TestStore {
  /** What `openDb()` and `--db` take: a file path or a postgres:// URL. */
  location: string;
  /** Environment for a child `jobctl`: on PostgreSQL, JOBS_DB points it at the schema. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** The store of a test whose files are in `dir`; `sqlite` keeps it a file on either run. */
export async function testStore(
  dir: string,
  options: { sqlite?: boolean } = {},
): Promise<TestStore> {
  if (!TEST_PG_URL || options.sqlite) {
    return { location: join(dir, "jobs.sqlite"), env: {}, drop: () => Promise.resolve() };
  }
  const scratch = await scratchSchema(TEST_PG_URL);
  return { location: scratch.url, env: { JOBS_DB: scratch.url }, drop: scratch.drop };
}
