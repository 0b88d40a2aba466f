import { StrictJsonError, parseStrictJson, toPlainJson } from './strict-json';

function problemOf(text: string, maxDepth?: number): StrictJsonError {
  try {
    parseStrictJson(text, maxDepth);
  } catch (err) {
    if (err instanceof StrictJsonError) return err;
    throw err;
  }
  throw new Error('expected a StrictJsonError');
}

describe('parseStrictJson', () => {
  it('parses RFC 8259 JSON to what JSON.parse gives, with line numbers and raw numbers', () => {
    const text = '{\n "a": [1, -2.5e3, true, null],\n "b": {"c": "d\\u00e9\\n"},\n "e": 0.10}';
    const node = parseStrictJson(text);
    expect(toPlainJson(node)).toEqual(JSON.parse(text));
    if (node.type !== 'object') throw new Error('object expected');
    expect(node.entries.get('b')?.keyLine).toBe(3);
    const e = node.entries.get('e')?.value;
    expect(e).toEqual({ type: 'number', line: 4, raw: '0.10' });
  });

  it('refuses duplicate keys, compared after unescaping, and names them', () => {
    const err = problemOf('{"a": 1,\n"\\u0061": 2}');
    expect(err.problem).toBe('duplicate_key');
    expect(err.line).toBe(2);
    expect(err.key).toBe('a');
    expect(problemOf('{"x": {"k": 1, "k": 1}}').problem).toBe('duplicate_key');
    // The same key in different objects is fine.
    expect(() => parseStrictJson('{"x": {"k": 1}, "y": {"k": 1}}')).not.toThrow();
  });

  it('is safe with __proto__ keys', () => {
    const plain = toPlainJson(parseStrictJson('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>;
    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what JSON forbids', () => {
    for (const bad of [
      '',
      '   ',
      '{"a": 1,}',
      '[1,]',
      '{a: 1}',
      "{'a': 1}",
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[NaN]',
      '[Infinity]',
      '[-Infinity]',
      '["a\tb"]',
      '["\\x41"]',
      '["\\u12"]',
      '[1] [2]',
      '{"a" 1}',
      '[1 2]',
      '"unterminated',
      '[tru]',
      '/* c */ 1',
      '\uFEFF{}',
    ]) {
      expect(problemOf(bad).problem).toBe('syntax');
    }
  });

  it('limits nesting depth', () => {
    expect(() => parseStrictJson('[[[1]]]', 3)).not.toThrow();
    const err = problemOf('[[[[1]]]]', 3);
    expect(err.problem).toBe('too_deep');
    expect(problemOf('['.repeat(100000)).problem).toBe('too_deep');
  });

  it('counts lines across CRLF and blank lines', () => {
    expect(problemOf('{\r\n\r\n"a": 1,\r\n"a": 2}').line).toBe(4);
  });
});
