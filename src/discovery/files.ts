/** files: the files under a root folder that match a glob; key = path relative to the root. */
import { join, resolve } from "node:path";
import { z } from "zod";
import { BaseDiscovery, DiscoveryError, itemOptions, type RawItem } from "./base.ts";

/** Options of the files strategy. */
export const schema = z.strictObject({
  ...itemOptions,
  /** Folder to search, relative to jobs.yaml. */
  root: z.string().min(1),
  /** Glob(s) matched against paths relative to root (picomatch syntax); default every file. */
  glob: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
});

/** Parsed options of the files strategy. */
export type FilesOptions = z.infer<typeof schema>;

/** Walks `root` (not following symlinked folders) and emits matching files in path order. */
export class FilesDiscovery extends BaseDiscovery<FilesOptions> {
  /** One item per matching file: data {path (absolute), size (bytes), mtime (ISO 8601)}. */
  async fetchItems(): Promise<RawItem[]> {
    const root = resolve(this.env.configDir, this.options.root);
    // Loaded on first use, not with the config's strategies.
    const { default: picomatch } = await import("picomatch");
    const matches = picomatch(this.options.glob ?? "**/*", { dot: false });
    const items: RawItem[] = [];
    try {
      for await (const relative of walk(root, "")) {
        if (!matches(relative)) continue;
        const path = join(root, relative);
        const info = await Deno.stat(path);
        const mtime = info.mtime?.toISOString();
        items.push({ key: relative, date: mtime, data: { path, size: info.size, mtime } });
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DiscoveryError(`Cannot list files under "${root}": ${reason}`, { cause: err });
    }
    return items.sort((a, b) => a.key! < b.key! ? -1 : 1);
  }
}

async function* walk(root: string, prefix: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(root, prefix))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) yield* walk(root, relative);
    else if (entry.isFile || (entry.isSymlink && await isFile(join(root, relative)))) {
      yield relative;
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
