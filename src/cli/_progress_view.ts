/** How the progress of a run is written: a table for a terminal, one line per stage for logs. */
import { count } from "../util/format.ts";
import { renderTable } from "./_table.ts";

/** One stage's progress, as the display shows it. */
export interface StageProgress {
  job: string;
  stage: string;
  done: number;
  failed: number;
  skipped: number;
  /** Handlers of this process running now (at most the stage's concurrency). */
  running: number;
  /** Rows waiting to run, claimed ones waiting for a free handler included. */
  pending: number;
  /**
   * Stage runs finished per second over the last minute; once the stage's worker has ended, its
   * average over the run. Undefined while there is nothing to measure.
   */
  rate?: number;
  /** Whether the stage's worker has ended: nothing more runs in this run. */
  ended: boolean;
}

const HEAD = ["job", "stage", "done", "failed", "skipped", "running", "pending", "rate", "ETA"];

/** The progress table: a header and a row per stage, columns aligned. */
export function progressTable(stages: readonly StageProgress[]): string[] {
  const rows = stages.map((s) => [
    s.job,
    s.stage,
    s.done,
    s.failed,
    s.skipped,
    s.running,
    s.pending,
    rate(s.rate),
    eta(s),
  ]);
  return renderTable(HEAD, rows).split("\n");
}

/** One stage's progress on one line: "feed/fetch: 540 done, …, 18.0/s, ETA 25s". */
export function progressLine(s: StageProgress): string {
  return `${s.job}/${s.stage}: ${count(s.done)} done, ${count(s.failed)} failed, ` +
    `${count(s.skipped)} skipped, ${count(s.running)} running, ${count(s.pending)} pending, ` +
    `${rate(s.rate)}, ETA ${eta(s)}`;
}

/** 18.04 → "18.0/s"; rates under one a second per minute or per hour: "12.0/min", "3.0/h". */
function rate(perSecond: number | undefined): string {
  if (perSecond === undefined) return "-";
  if (perSecond === 0 || perSecond >= 0.995) return `${perSecond.toFixed(1)}/s`;
  if (perSecond * 60 >= 0.995) return `${(perSecond * 60).toFixed(1)}/min`;
  return `${(perSecond * 3600).toFixed(1)}/h`;
}

/** "done" once the worker has ended; the pending rows at the rate; "-" without a rate. */
function eta(s: StageProgress): string {
  if (s.ended) return "done";
  return s.rate ? approximate(s.pending / s.rate) : "-";
}

/** 42 → "42s", 4000 → "1h06m": two units at most, for an ETA. */
function approximate(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
