/** Plain-language messages for zod issues, and their flattening into one problem per node. */
import type { z } from "zod";
import { plural } from "../util/format.ts";
import { describeValue } from "../util/quote.ts";

/** One problem of a config: where (a path into the YAML) and what. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** True when the problem is the key itself (unknown key, bad job id), not its value. */
  atKey: boolean;
}

type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  array: "a list",
  tuple: "a list",
  null: "null",
};

/** A zod error map giving every generic issue a sentence that names the expected and found value. */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? "missing required field"
        : `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${
          describeValue(issue.input)
        }`;
    case "too_small":
    case "too_big":
      return sizeMessage(issue);
    case "invalid_value":
      return `expected ${issue.values.map((v) => describeValue(v)).join(" or ")}, got ${
        describeValue(issue.input)
      }`;
    case "invalid_union":
      return unionMessage(issue.errors, issue.input);
    case "invalid_key":
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
}

function sizeMessage(issue: RawIssue & { code: "too_small" | "too_big" }): string {
  const small = issue.code === "too_small";
  const bound = Number(small ? issue.minimum : issue.maximum);
  const got = describeValue(issue.input);
  if (issue.origin === "array") {
    return `expected ${small ? "at least" : "at most"} ${plural(bound, "item")}`;
  }
  if (issue.origin === "string") {
    return small && bound === 1
      ? "expected a non-empty string"
      : `expected ${small ? "at least" : "at most"} ${bound} characters, got ${got}`;
  }
  const relation = small
    ? (issue.inclusive ? "at least" : "greater than")
    : (issue.inclusive ? "at most" : "less than");
  return `expected a number ${relation} ${bound}, got ${got}`;
}

function unionMessage(branches: z.core.$ZodIssue[][], input: unknown): string {
  const expected = branches.map((issues) => {
    const [first] = issues;
    return issues.length === 1 && first.code === "invalid_type" && first.path.length === 0
      ? TYPE_NAMES[first.expected] ?? first.expected
      : undefined;
  });
  if (expected.every((name) => name !== undefined)) {
    return `expected ${[...new Set(expected)].join(" or ")}, got ${describeValue(input)}`;
  }
  const matched = branches[expected.findIndex((name) => name === undefined)];
  return matched[0]?.message ?? `unexpected value ${describeValue(input)}`;
}

/** The issues of a failed parse, one per offending node (an unknown-keys issue becomes one per key). */
export function flattenIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    const path = issue.path.filter((p) => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: `unknown key ${JSON.stringify(key)}`,
        atKey: true,
      }));
    }
    const atKey = issue.code === "invalid_key" ||
      (issue.code === "custom" && issue.params?.atKey === true);
    return [{ path, message: issue.message, atKey }];
  });
}
