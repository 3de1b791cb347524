/** Exit codes and the usage text shared by every command. */

/** Process exit codes, documented in README. */
export const EXIT = {
  /** Everything worked. */
  ok: 0,
  /** The run finished but some stage failed, or `doctor` found warnings. */
  failed: 1,
  /** Bad usage or config; also `doctor` errors. */
  usage: 2,
  /** A database or runtime error stopped the command. */
  error: 3,
  /** Stopped by SIGINT/SIGTERM; in-flight claims were released. */
  interrupted: 130,
  /** A bug: the message includes a stack trace. */
  internal: 70,
} as const;

/** `jobs help` text. */
export const USAGE = `jobs — run data pipelines declared in jobs.yaml

Usage: jobs <command> [options]

Commands:
  run        discover and process items (single pass; --watch keeps going)
  test       run a job's stages on a few items in a scratch database
  validate   check jobs.yaml and print a summary per job
  status     per job: pause, item and stage counts, next discovery, cost, stale results
  items      list a job's items, filtered by status, stage or error
  item       one item in full: stages, attempts, errors, results, events
  events     the event log, filtered; --follow prints new events as they come
  costs      cost per day, job and stage
  pause      stop claiming a job's stages (--reason TEXT)
  unpause    let a paused job's stages be claimed again
  wake       make the next run of a job discover now
  retry      put failed stages back to pending with attempts reset
  reprocess  reset a stage (or stale results) and every later stage; --dry-run estimates cost
  doctor     check the database, jobs, config and disk; --fix applies the safe fixes
  dashboard  serve a web dashboard with pause, wake and retry buttons (127.0.0.1:8377)
  migrate    copy the store into another, e.g. PostgreSQL: --to URL [--force]
  prune      remove what retention no longer keeps (--dry-run, --vacuum)
  metrics    Prometheus metrics on stdout, or --textfile PATH for node_exporter

Common options: --config FILE (default ./jobs.yaml or $JOBS_CONFIG), --db PATH,
                --json, --log-format text|json`;
