/**
 * The real-world fixture corpus (`../shared/fixtures/realworld` beside the repository): other
 * projects' test documents with their expected readings. A fresh clone does not have it, so the
 * tests that read it are skipped with a note; CI, which has it, runs them.
 */
export const CORPUS: URL = new URL("../../shared/fixtures/realworld/", import.meta.url);

function present(): boolean {
  try {
    return Deno.statSync(CORPUS).isDirectory;
  } catch {
    return false;
  }
}

/** Test options that skip a test needing the corpus when it is absent, saying why once. */
export function needsCorpus(what: string): { ignore: boolean } {
  const ignore = !present();
  if (ignore) {
    console.log(
      `note: skipping ${what}: the fixture corpus ../shared/fixtures/realworld is absent`,
    );
  }
  return { ignore };
}
