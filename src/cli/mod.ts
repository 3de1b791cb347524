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

Common options: --config FILE (default ./jobs.yaml or $JOBS_CONFIG), --db PATH,
                --json, --log-format text|json`;
