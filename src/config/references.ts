/**
 * The handler modules and programs a jobs.yaml names, found in the document as written (so
 * they are checked even where other parts of the file are invalid), and what `jobctl run`
 * would hit with them: a missing module, one that does not load or has no default function,
 * a program that cannot be started.
 */
import { basename, dirname, join, resolve } from "node:path";
import { isFile, programProblem } from "../util/programs.ts";
import { closest, isRecord } from "./_fields.ts";
import { probeModule, shown } from "./_module_probe.ts";
import { isBuiltin, programPath } from "./_stages.ts";
import type { YamlPath } from "./_yaml.ts";

/** A module or program named in jobs.yaml, and where. */
export interface Reference {
  kind: "module" | "program";
  /** Absolute path of a module or of a program containing "/"; else the program's name. */
  target: string;
  /** Where it is named in the document. */
  path: YamlPath;
}

/** What is wrong with a reference, at its place in the document. */
export interface ReferenceProblem {
  path: YamlPath;
  message: string;
}

/** How references are checked. */
export interface CheckOptions {
  /** The jobs.yaml folder, where commands run. */
  dir: string;
  /** Longest a module may take to load. */
  timeoutMs: number;
  /** Modules loaded at once. Default 4. */
  concurrency?: number;
}

/** Every module and program that the stages and command discoveries of `raw` name. */
export function findReferences(raw: unknown, dir: string): Reference[] {
  const jobs = isRecord(raw) && isRecord(raw.jobs) ? raw.jobs : {};
  return Object.entries(jobs).flatMap(([id, job]): Reference[] => {
    if (!isRecord(job)) return [];
    const at: YamlPath = ["jobs", id];
    const stages = Array.isArray(job.stages)
      ? job.stages.flatMap((stage, i) => stageReferences(stage, [...at, "stages", i], dir))
      : [];
    const single = typeof job.handler === "string"
      ? stageReferences({ handler: job.handler }, at, dir)
      : stageReferences(job.handler, [...at, "handler"], dir);
    const discovery = isRecord(job.discovery) && job.discovery.strategy === "command"
      ? programReference(job.discovery.command, [...at, "discovery", "command"], dir)
      : [];
    return [...stages, ...single, ...discovery];
  });
}

function stageReferences(stage: unknown, at: YamlPath, dir: string): Reference[] {
  if (!isRecord(stage)) return [];
  const module = typeof stage.handler === "string" && stage.handler !== "" &&
      !isBuiltin(stage.handler)
    ? [{ kind: "module" as const, target: resolve(dir, stage.handler), path: [...at, "handler"] }]
    : [];
  return [...module, ...programReference(stage.command, [...at, "command"], dir)];
}

function programReference(command: unknown, at: YamlPath, dir: string): Reference[] {
  if (!Array.isArray(command) || typeof command[0] !== "string" || command[0] === "") return [];
  return [{ kind: "program", target: programPath(command[0], dir), path: [...at, 0] }];
}

/** The problems of `refs`; modules are loaded in Workers, a few at a time. */
export async function checkReferences(
  refs: readonly Reference[],
  options: CheckOptions,
): Promise<ReferenceProblem[]> {
  const problems = new Map<Reference, string | undefined>();
  const queue = [...refs];
  const next = async (): Promise<void> => {
    for (let ref = queue.shift(); ref; ref = queue.shift()) {
      problems.set(ref, await referenceProblem(ref, options));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, next));
  return refs.flatMap((ref) => {
    const message = problems.get(ref);
    return message === undefined ? [] : [{ path: ref.path, message }];
  });
}

async function referenceProblem(
  ref: Reference,
  options: CheckOptions,
): Promise<string | undefined> {
  if (ref.kind === "program") return programMessage(ref.target, options.dir);
  if (!isFile(ref.target)) {
    return `module "${shown(ref.target)}" does not exist${await nearFile(ref.target)}`;
  }
  return await probeModule(await Deno.realPath(ref.target), options);
}

function programMessage(program: string, dir: string): string | undefined {
  const problem = programProblem(program);
  if (problem === undefined) return undefined;
  if (problem === "is not executable") {
    return `program "${shown(program)}" is not executable (chmod +x ${shown(program)})`;
  }
  if (problem === "does not exist") return `program "${shown(program)}" does not exist`;
  // A bare name is looked up on PATH, never beside jobs.yaml.
  const local = isFile(join(dir, program));
  return `program "${program}" is not on PATH${local ? ` (write "./${program}" for a file)` : ""}`;
}

/** ` (did you mean "handlers/extract.ts"?)` when a file next to `path` has a near name. */
async function nearFile(path: string): Promise<string> {
  try {
    const names = (await Array.fromAsync(Deno.readDir(dirname(path)))).map((e) => e.name);
    const near = closest(basename(path), names);
    return near === undefined ? "" : ` (did you mean "${shown(join(dirname(path), near))}"?)`;
  } catch {
    return "";
  }
}
