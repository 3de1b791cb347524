// Stage "read": reads the note and counts its words.
export const HANDLER_VERSION = "1";

export default async function handle(
  item: { key: string; data: { path: string } },
  ctx: { signal: AbortSignal },
): Promise<{ words: number; firstLine: string }> {
  const text = await Deno.readTextFile(item.data.path, { signal: ctx.signal });
  const words = text.split(/\s+/).filter(Boolean).length;
  return { words, firstLine: text.split("\n")[0].trim() };
}
