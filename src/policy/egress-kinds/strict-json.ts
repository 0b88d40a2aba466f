/**
 * A strict JSON (RFC 8259) parser that keeps what JSON.parse throws away: duplicate object
 * keys (JSON.parse silently keeps the last one, so `{"n": 5, "n": 500}` would pass a check on
 * one value and release another), the exact spelling of numbers (for exact rounding), and line
 * numbers (for rejection messages). Keys are compared after unescaping, so `"\u006e"` is a
 * duplicate of `"n"`.
 */

export type JsonNode = JsonObjectNode | JsonArrayNode | JsonStringNode | JsonNumberNode | JsonLiteralNode;

export interface JsonEntry {
  readonly keyLine: number;
  readonly value: JsonNode;
}
export interface JsonObjectNode {
  readonly type: 'object';
  readonly line: number;
  /** In document order. */
  readonly entries: ReadonlyMap<string, JsonEntry>;
}
export interface JsonArrayNode {
  readonly type: 'array';
  readonly line: number;
  readonly items: readonly JsonNode[];
}
export interface JsonStringNode {
  readonly type: 'string';
  readonly line: number;
  readonly value: string;
}
export interface JsonNumberNode {
  readonly type: 'number';
  readonly line: number;
  /** The token exactly as written. */
  readonly raw: string;
}
export interface JsonLiteralNode {
  readonly type: 'boolean' | 'null';
  readonly line: number;
  readonly value: boolean | null;
}

export type StrictJsonProblem = 'syntax' | 'duplicate_key' | 'too_deep';

/** Messages are fixed text; `key` is set for duplicate keys, for callers that may show it. */
export class StrictJsonError extends Error {
  constructor(
    readonly problem: StrictJsonProblem,
    readonly line: number,
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'StrictJsonError';
  }
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parseDocument(): JsonNode {
    this.skipSpace();
    const node = this.value(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected content after the JSON value');
    return node;
  }

  private fail(message: string, problem: StrictJsonProblem = 'syntax', key?: string): never {
    throw new StrictJsonError(problem, this.line, message, key);
  }

  private skipSpace(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d) this.pos++;
      else if (c === 0x0a) {
        this.pos++;
        this.line++;
      } else return;
    }
  }

  private value(depth: number): JsonNode {
    const line = this.line;
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      if (depth >= this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`, 'too_deep');
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return { type: 'string', line, value: this.string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER_RE.lastIndex = this.pos;
      const m = NUMBER_RE.exec(this.text);
      if (!m) this.fail('malformed number');
      this.pos += m[0].length;
      return { type: 'number', line, raw: m[0] };
    }
    for (const [word, type, value] of [
      ['true', 'boolean', true],
      ['false', 'boolean', false],
      ['null', 'null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { type, line, value };
      }
    }
    return this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
  }

  private object(depth: number): JsonObjectNode {
    const line = this.line;
    const entries = new Map<string, JsonEntry>();
    this.pos++; // {
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { type: 'object', line, entries };
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const keyLine = this.line;
      const key = this.string();
      if (entries.has(key)) this.fail('duplicate key', 'duplicate_key', key);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.skipSpace();
      entries.set(key, { keyLine, value: this.value(depth) });
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return { type: 'object', line, entries };
      if (c !== ',') this.fail('expected "," or "}"');
      this.skipSpace();
    }
  }

  private array(depth: number): JsonArrayNode {
    const line = this.line;
    const items: JsonNode[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { type: 'array', line, items };
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return { type: 'array', line, items };
      if (c !== ',') this.fail('expected "," or "]"');
      this.skipSpace();
    }
  }

  /** Scans a string token (no raw control characters, only JSON escapes) and unescapes it. */
  private string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c < 0x20) this.fail('control character in a string');
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = t[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) this.fail('malformed \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          this.fail('malformed escape');
        }
      } else {
        i++;
      }
    }
    this.pos = i + 1;
    return JSON.parse(t.slice(start, i + 1)) as string; // a validated string token
  }
}

/** Parses text as one JSON value, refusing duplicate keys and nesting beyond maxDepth. */
export function parseStrictJson(text: string, maxDepth = 32): JsonNode {
  return new Parser(text, maxDepth).parseDocument();
}

/** Plain JS value of a node; numbers via Number() (so 1e999 becomes Infinity). */
export function toPlainJson(node: JsonNode): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries([...node.entries].map(([k, e]) => [k, toPlainJson(e.value)]));
    case 'array':
      return node.items.map(toPlainJson);
    case 'number':
      return Number(node.raw);
    case 'string':
    case 'boolean':
    case 'null':
      return node.value;
  }
}
