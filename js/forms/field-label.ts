// A field's label, by one rule wherever a field is named (forms, problems, refusals).

/** Words read as letters, written so in labels. */
const ACRONYMS = new Set(["api", "csv", "html", "http", "id", "json", "llm", "pdf", "sql", "uri", "url", "xml"]);

/** "max_rows" → "Max rows", "csvFile" → "CSV file": a field's name as words. */
export function inWords(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[\s_-]+/).filter(Boolean)
    .map((word) => (ACRONYMS.has(word.toLowerCase()) ? word.toUpperCase() : word.toLowerCase()));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * A field's label, one rule everywhere: its schema's `title`, else its name in words. pydantic
 * titles every field after its name (`max_rows` → "Max Rows", `csv` → "Csv"): such a title
 * is the name, and reads as the name in words.
 */
export function fieldLabel(name: string, title: unknown): string {
  if (typeof title !== "string" || !title.trim()) return inWords(name);
  // Python's str.title() of the name with "_" as spaces, as pydantic makes it.
  const generated = name.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase()).replace(/_/g, " ");
  return title === generated ? inWords(name) : title;
}
