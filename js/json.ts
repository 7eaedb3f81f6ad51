// JSON parsing that says where and what is wrong, in the same words in every
// browser: JSON.parse's messages differ between engines (Safari's carry no
// position at all), and people fix schemas and setup by line and column.
// The scanner only checks syntax; JSON.parse still builds the value.

export interface JSONErrorInfo {
  message: string;
  line: number;
  column: number;
}

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: JSONErrorInfo };

export function parseJSON(text: string): ParseResult {
  try {
    new Scanner(text).document();
  } catch (err) {
    if (!(err instanceof SyntaxStop)) throw err;
    return { ok: false, error: { message: err.message, ...position(text, err.at) } };
  }
  return { ok: true, value: JSON.parse(text) };
}

export function describeJSONError(error: JSONErrorInfo): string {
  return `line ${error.line}, column ${error.column}: ${error.message}`;
}

/** "an array", "a string", …: for messages such as "must be a JSON object, not an array". */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "boolean") return "true/false";
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class SyntaxStop extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

function position(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

// Python's spellings are the most common mistake in JSON typed in a notebook.
const PYTHONISMS: Record<string, string> = {
  True: "true",
  False: "false",
  None: "null",
};

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;

class Scanner {
  private i = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.space();
    if (this.i >= this.text.length) this.stop("empty: expected a JSON value");
    this.value(0);
    this.space();
    if (this.i < this.text.length) this.stop("Unexpected text after the JSON value");
  }

  private stop(message: string, at = this.i): never {
    throw new SyntaxStop(at, message);
  }

  private space(): void {
    while (this.i < this.text.length && " \t\n\r".includes(this.text[this.i]!)) this.i += 1;
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) this.stop("nested too deeply");
    this.space();
    const c = this.text[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    if (c === undefined) this.stop("Unexpected end: expected a value");
    if (c === "'") this.stop("Strings need double quotes");
    WORD.lastIndex = this.i;
    const word = WORD.exec(this.text)?.[0];
    if (word === "true" || word === "false" || word === "null") {
      this.i += word.length;
      return;
    }
    if (word !== undefined && word in PYTHONISMS) this.stop(`Write ${PYTHONISMS[word]}, not ${word}`);
    this.stop(`Unexpected ${word ? `'${word}'` : `'${c}'`}: expected a value`);
  }

  private object(depth: number): void {
    this.i += 1;
    this.space();
    if (this.text[this.i] === "}") {
      this.i += 1;
      return;
    }
    for (;;) {
      this.space();
      const c = this.text[this.i];
      if (c !== '"') {
        if (c === "}") this.stop("Trailing comma: JSON allows no ',' before '}'");
        if (c === "'") this.stop("Property names need double quotes");
        if (c === undefined) this.stop("Unexpected end: expected a property name");
        this.stop("Expected a property name in double quotes");
      }
      this.string();
      this.space();
      if (this.text[this.i] !== ":") this.stop("Expected ':' after the property name");
      this.i += 1;
      this.value(depth + 1);
      if (this.after("}")) return;
    }
  }

  private array(depth: number): void {
    this.i += 1;
    this.space();
    if (this.text[this.i] === "]") {
      this.i += 1;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.i] === "]") this.stop("Trailing comma: JSON allows no ',' before ']'");
      this.value(depth + 1);
      if (this.after("]")) return;
    }
  }

  /** After a member: true at the closing bracket, false after a comma. */
  private after(close: "}" | "]"): boolean {
    this.space();
    const c = this.text[this.i];
    this.i += 1;
    if (c === ",") return false;
    if (c === close) return true;
    this.i -= 1;
    const what = close === "}" ? "a property value" : "an item";
    if (c === undefined) this.stop(`Unexpected end: expected ',' or '${close}'`);
    return this.stop(`Expected ',' or '${close}' after ${what}`);
  }

  private string(): void {
    const start = this.i;
    this.i += 1;
    for (;;) {
      if (this.i >= this.text.length) this.stop("Unterminated string", start);
      const code = this.text.charCodeAt(this.i);
      if (code === 0x22) {
        this.i += 1;
        return;
      }
      if (code === 0x0a) this.stop("Line break inside a string (write \\n)");
      if (code < 0x20) this.stop("Control character inside a string");
      if (code === 0x5c) this.escape();
      else this.i += 1;
    }
  }

  private escape(): void {
    const e = this.text[this.i + 1];
    if (e === "u") {
      if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) this.stop("Bad \\u escape: needs 4 hex digits");
      this.i += 6;
      return;
    }
    if (e === undefined || !'"\\/bfnrt'.includes(e)) this.stop(`Bad escape '\\${e ?? ""}'`);
    this.i += 2;
  }

  private number(): void {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    const end = match ? this.i + match[0].length : this.i;
    if (!match || /[0-9.eE+\-]/.test(this.text[end] ?? "")) this.stop("Bad number");
    this.i = end;
  }
}
