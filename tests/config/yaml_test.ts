/** jobs.yaml read as YAML: values, the places problems are shown at, aliases, `${VAR}`. */
import assert from "node:assert/strict";
import {
  lineAndColumn,
  locate,
  readYaml,
  substituteEnv,
  type YamlPath,
  YamlProblem,
} from "../../src/config/_yaml.ts";

/** Where `path` is shown in `text`, as "line:col". */
function shownAt(text: string, path: YamlPath, atKey = false): string {
  const { line, col } = lineAndColumn(text, locate(readYaml(text), path, atKey));
  return `${line}:${col}`;
}

function problemOf(text: string): { at: string; message: string } {
  try {
    readYaml(text);
  } catch (err) {
    assert.ok(err instanceof YamlProblem, `expected a YamlProblem, got ${err}`);
    const { line, col } = lineAndColumn(text, err.located.offset);
    return { at: `${line}:${col}`, message: err.located.message };
  }
  throw new Error("expected the text to be refused");
}

Deno.test("YAML 1.2 core schema values, keys as the mapping holds them", () => {
  const text = "a: 0x1F\nb: yes\nc: ~\nd: !!str 42\ne: 2024-01-01\n0x10: hex key\n'q': 1.5\n";
  assert.deepEqual(readYaml(text).value, {
    a: 31,
    b: "yes",
    c: null,
    d: "42",
    e: "2024-01-01",
    16: "hex key",
    q: 1.5,
  });
  assert.equal(shownAt(text, ["16"]), "6:7");
  assert.equal(shownAt(text, ["q"]), "7:6");
});

Deno.test("a problem is shown at the value, at the key of a mapping, list or empty value", () => {
  const text = `jobs:
  feed:
    title: "quoted"
    note: 'single'
    body: |
      block text
    list:
      - one
      - { two: 2 }
    empty:
`;
  assert.equal(shownAt(text, ["jobs", "feed", "title"]), "3:12");
  assert.equal(shownAt(text, ["jobs", "feed", "note"]), "4:11");
  assert.equal(shownAt(text, ["jobs", "feed", "body"]), "6:7");
  assert.equal(shownAt(text, ["jobs", "feed", "list"]), "7:5");
  assert.equal(shownAt(text, ["jobs", "feed", "list", 0]), "8:9");
  assert.equal(shownAt(text, ["jobs", "feed", "list", 1, "two"]), "9:16");
  assert.equal(shownAt(text, ["jobs", "feed", "empty"]), "10:5");
  assert.equal(shownAt(text, ["jobs", "feed", "title"], true), "3:5");
  // A path that does not exist is shown at the nearest parent that does.
  assert.equal(shownAt(text, ["jobs", "feed", "missing", "deeper"]), "2:3");
  assert.equal(shownAt(text, ["jobs", "feed", "list", 7]), "7:5");
});

Deno.test("YAML that is not one document is refused at its place", () => {
  assert.deepEqual(problemOf("jobs:\n  a: 1\n  a: 2\n"), {
    at: "3:3",
    message: "invalid YAML: duplicated mapping key",
  });
  assert.deepEqual(problemOf("a: 1\n---\nb: 2\n"), {
    at: "3:1",
    message: "the file holds more than one YAML document",
  });
  assert.deepEqual(problemOf("a: *nowhere\n"), {
    at: "1:5",
    message: 'invalid YAML: unidentified alias "nowhere"',
  });
  assert.deepEqual(problemOf("a:\n\t- b\n"), {
    at: "2:1",
    message: "invalid YAML: tab characters must not be used in indentation",
  });
  assert.deepEqual(readYaml("# only a comment\n").value, null);
  assert.deepEqual(readYaml("").value, null);
});

Deno.test("aliases that stand for too many values are refused, at the first alias", () => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 6; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = String.fromCharCode(96 + i);
    levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  const bomb = levels.join("\n") + "\n";
  assert.deepEqual(problemOf(bomb), {
    at: "2:8",
    message: "invalid YAML: its aliases stand for more than 100000 values",
  });
  assert.deepEqual(problemOf("a: 1\nb: &b { c: [*b] }\n"), {
    at: "2:13",
    message: "invalid YAML: an alias stands for a value that holds it",
  });
  // Four levels (11,111 values) are an ordinary document.
  const fine = levels.slice(0, 4).join("\n") + "\n";
  assert.equal((readYaml(fine).value as { d: unknown[] }).d.length, 10);
});

Deno.test("${VAR} is replaced in string values, once per aliased value, not in keys", () => {
  const text = `shared: &s { token: "\${JOBS_YAML_TEST_SET}" }
a: *s
b: *s
"\${JOBS_YAML_TEST_SET}": $\${literal} \${JOBS_YAML_TEST_SET}
n: 5
missing: [ok, "x\${JOBS_YAML_TEST_UNSET}"]
`;
  const doc = readYaml(text);
  const env = { JOBS_YAML_TEST_SET: "$${JOBS_YAML_TEST_SET}" } as Record<string, string>;
  const problems = substituteEnv(doc, (name) => env[name]);
  // The value is taken as it is: a "$${" in it is not read again, even where an alias repeats it.
  assert.deepEqual(doc.value, {
    shared: { token: "$${JOBS_YAML_TEST_SET}" },
    a: { token: "$${JOBS_YAML_TEST_SET}" },
    b: { token: "$${JOBS_YAML_TEST_SET}" },
    "${JOBS_YAML_TEST_SET}": "${literal} $${JOBS_YAML_TEST_SET}",
    n: 5,
    missing: ["ok", "x${JOBS_YAML_TEST_UNSET}"],
  });
  assert.deepEqual(
    problems.map((p) => ({ ...p, offset: lineAndColumn(text, p.offset) })),
    [{
      offset: { line: 6, col: 15 },
      path: ["missing", 1],
      message: 'environment variable "JOBS_YAML_TEST_UNSET" is not set',
    }],
  );
});
