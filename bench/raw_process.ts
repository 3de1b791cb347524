/**
 * The raw node:sqlite baseline as a whole process, the way `jobctl` is measured:
 *
 *   raw_process.ts enqueue STORE ITEMS.jsonl JOB STAGE,STAGE…   read, parse and upsert the lines
 *   raw_process.ts loop STORE JOB STAGE,STAGE…                  claim → done every stage
 *
 * STORE must already have the store's schema. Prints {"transitions": n} for `loop`.
 */
import { rawConnect, rawLoop, rawUpsert } from "./_raw.ts";

function enqueue(store: string, jsonl: string, id: string, stages: string[]): void {
  const list = Deno.readTextFileSync(jsonl).split("\n").filter((line) => line !== "").map(
    (line) => {
      const data = JSON.parse(line) as { key: string };
      return { key: data.key, data };
    },
  );
  const conn = rawConnect(store);
  rawUpsert(conn, list, Date.now(), { id, stages });
  conn.close();
}

const [mode, store, ...rest] = Deno.args;
if (mode === "enqueue") {
  const [jsonl, id, stages] = rest;
  enqueue(store, jsonl, id, stages.split(","));
} else if (mode === "loop") {
  const [id, stages] = rest;
  console.log(
    JSON.stringify({ transitions: rawLoop(store, { id, stages: stages.split(",") }).transitions }),
  );
} else {
  console.error(
    "usage: raw_process.ts enqueue STORE ITEMS.jsonl JOB STAGES | loop STORE JOB STAGES",
  );
  Deno.exit(2);
}
