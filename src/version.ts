/** The program's name and version: `jobctl --version`, help texts and the HTTP User-Agent. */

/** The executable's name (`jobs`, the project's name, is a shell builtin). */
export const PROGRAM = "jobctl";

/** The version of this program; the only place it is written. */
export const VERSION = "0.1.0";
