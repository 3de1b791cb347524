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

/** What `jobctl`, `jobctl help` and `jobctl --help` print. */
export const USAGE = `jobctl — run the data pipelines declared in jobs.yaml

Usage: jobctl <command> [options]

Commands:
  init       write a starting point into a folder: jobs.yaml and example handlers
  run        discover and process items (single pass; --watch keeps going)
  test       run a job's stages on a few items in a scratch database
  validate   check jobs.yaml, load every handler module and find every command program
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

Run "jobctl <command> --help" for the options of a command, "jobctl --version" for the version.`;

/** The help lines of the options every command that reads jobs.yaml and the store takes. */
export const COMMON_HELP = `Options of every command:
  -c, --config FILE   the jobs.yaml to read (default $JOBS_CONFIG, else ./jobs.yaml)
  --db PATH|URL       the store: a SQLite file or postgres://… (default $JOBS_DB, else db: in
                      jobs.yaml, else jobs.sqlite beside jobs.yaml)
  -h, --help          print this help and do nothing else
Relative paths are taken from the folder jobctl is started in.`;
