// The documents of docs/, embedded in the bundle by the build (bin/build.mjs defines
// NETNOTE_DOCS), so that `netnote help wire-cost` works the same from a checkout, an npm install
// and the standalone executable, none of which may have docs/ where the code runs.
declare const NETNOTE_DOCS: Readonly<Record<string, string>>;

/** Topic name (a doc's file name without `.md`; `schema` for the JSON Schema) → its text. */
export function helpTopics(): Readonly<Record<string, string>> {
  return NETNOTE_DOCS;
}
