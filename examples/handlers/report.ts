// Stage "report": combines the earlier stages' results into one line.
export const HANDLER_VERSION = "1";

export default function handle(
  item: { key: string },
  ctx: { results: { read: { words: number; firstLine: string }; tag?: { size: string } } },
): { line: string } {
  const { read, tag } = ctx.results;
  // The tag stage skips empty notes, so it may have no result.
  return {
    line: `${item.key}: ${read.words} words (${tag?.size ?? "untagged"}) — ${read.firstLine}`,
  };
}
