/** The live view of a run: a table redrawn in a terminal, periodic lines otherwise. */
import type { StageCounts, Store } from "../db/store.ts";
import type { JobConfig } from "../config/types.ts";

import type { Logger } from "../util/log.ts";

/** How often a terminal display is redrawn, and a log line is written otherwise. */
const TTY_REFRESH_MS = 1000;
const LOG_REFRESH_MS = 30_000;

interface Sample {
  at: number;
  done: Map<string, number>;
}

/** Starts the display; `stop()` ends it (idempotent). */
export function startProgress(
  db: Store,
  jobs: JobConfig[],
  options: { log: Logger; json: boolean },
): { stop(): void } {
  const tty = Deno.stderr.isTerminal() && !options.json;
  let first: Sample | undefined;
  let lines = 0;
  const tick = async () => {
    const rows = await Promise.all(
      jobs.map(async (j) => ({ job: j.id, stages: await db.stageStats(j.id) })),
    );
    const now = Date.now();
    const done = new Map(
      rows.flatMap((r) =>
        r.stages.map((s) => [`${r.job}/${s.stage}`, s.done + s.failed + s.skipped])
      ),
    );
    first ??= { at: now, done };
    const text = rows.flatMap((r) => r.stages.map((s) => line(r.job, s, first!, now)));
    if (tty) {
      const clear = lines ? `\x1b[${lines}A\x1b[J` : "";
      Deno.stderr.writeSync(new TextEncoder().encode(clear + text.join("\n") + "\n"));
      lines = text.length;
    } else {
      for (const t of text) options.log.info(t);
    }
  };
  const timer = setInterval(() => tick().catch(() => {}), tty ? TTY_REFRESH_MS : LOG_REFRESH_MS);
  return { stop: () => clearInterval(timer) };
}

function line(job: string, s: StageCounts, first: Sample, now: number): string {
  const finished = s.done + s.failed + s.skipped;
  const elapsed = (now - first.at) / 1000;
  const rate = elapsed > 0
    ? (finished - (first.done.get(`${job}/${s.stage}`) ?? finished)) / elapsed
    : 0;
  const eta = rate > 0 ? approximate(s.pending / rate) : "-";
  return `${job}/${s.stage}: ${s.done} done, ${s.failed} failed, ${s.skipped} skipped, ` +
    `${s.inProgress} running, ${s.pending} pending, ${rate.toFixed(1)}/s, ETA ${eta}`;
}

/** 42 → "42s", 4000 → "1h06m": two units at most, for an ETA. */
function approximate(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
