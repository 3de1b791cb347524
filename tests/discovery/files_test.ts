import assert from "node:assert/strict";
import { join } from "node:path";
import { DiscoveryError } from "../../src/discovery/base.ts";
import { FilesDiscovery, schema } from "../../src/discovery/files.ts";
import { testEnv } from "./_server.ts";

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
}

Deno.test("files lists matching files under root, keyed by relative path, in path order", async () => {
  await using t = await testEnv();
  const root = join(t.dir, "docs");
  await writeTree(root, {
    "b.md": "bee",
    "a/one.md": "1",
    "a/deep/two.md": "22",
    "a/skip.txt": "no",
    ".hidden.md": "dotfile",
  });
  const mtime = new Date("2024-03-01T12:00:00Z");
  await Deno.utime(join(root, "b.md"), mtime, mtime);
  const options = schema.parse({ root: "docs", glob: "**/*.md" });
  const items = [...(await new FilesDiscovery(options, t.env).discover()).items];
  assert.deepEqual(items.map((i) => i.key), ["a/deep/two.md", "a/one.md", "b.md"]);
  assert.deepEqual(items[2].data, {
    path: join(root, "b.md"),
    size: 3,
    mtime: "2024-03-01T12:00:00.000Z",
  });
  assert.equal(items[0].data.size, 2);
});

Deno.test("files takes several globs, follows symlinked files and applies since to mtime", async () => {
  await using t = await testEnv({ now: () => Date.parse("2024-03-10T00:00:00Z") });
  const root = join(t.dir, "in");
  await writeTree(root, { "x.csv": "x", "y.json": "y", "old.csv": "o" });
  await Deno.symlink(join(root, "x.csv"), join(root, "link.csv"));
  for (
    const [name, date] of [["x.csv", "2024-03-09"], ["y.json", "2024-03-09"], [
      "old.csv",
      "2023-01-01",
    ]]
  ) {
    await Deno.utime(join(root, name), new Date(date), new Date(date));
  }
  const options = schema.parse({ root: "in", glob: ["*.csv", "*.json"], since: "7d" });
  const result = await new FilesDiscovery(options, t.env).discover();
  assert.deepEqual([...result.items].map((i) => i.key), ["link.csv", "x.csv", "y.json"]);
});

Deno.test("a missing root is a DiscoveryError naming the folder", async () => {
  await using t = await testEnv();
  const options = schema.parse({ root: "nowhere" });
  const err = await new FilesDiscovery(options, t.env).discover().catch((e) => e);
  assert.ok(err instanceof DiscoveryError);
  assert.match(
    err.message,
    new RegExp(`^Cannot list files under "${join(t.dir, "nowhere")}": .*No such file`),
  );
});
