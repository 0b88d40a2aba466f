import {
  decimalFromNumber,
  formatScaled,
  normalizeDecimal,
  parseDecimal,
  parseScientific,
  roundPlainToMultiple,
  roundSignificant,
  roundToMultiple,
  scientificToNumber,
} from './decimal';

const HALF = normalizeDecimal(parseDecimal('0.5'));

describe('exact decimals', () => {
  it('parses JSON-grammar numbers exactly, exponent included', () => {
    expect(parseDecimal('-12.50')).toEqual({ negative: true, units: 1250n, scale: 2 });
    expect(parseDecimal('1.5e3')).toEqual({ negative: false, units: 1500n, scale: 0 });
    expect(parseDecimal('-0.0')).toEqual({ negative: false, units: 0n, scale: 1 });
    expect(decimalFromNumber(1e-7)).toEqual({ negative: false, units: 1n, scale: 7 });
    expect(normalizeDecimal(parseDecimal('2.500'))).toEqual({ negative: false, units: 25n, scale: 1 });
    expect(() => parseDecimal('1e999')).toThrow(RangeError);
    expect(() => parseDecimal('0x10')).toThrow(RangeError);
  });

  it('rounds to a multiple with halves away from zero', () => {
    const cases: [string, bigint][] = [
      ['0.25', 1n],
      ['-0.25', -1n],
      ['0.2499999999999999999999', 0n],
      ['0.74', 1n],
      ['0.75', 2n],
      ['-0.75', -2n],
      ['-0.1', 0n],
      ['188.25', 377n],
    ];
    for (const [text, steps] of cases) {
      expect(roundToMultiple(parseDecimal(text), HALF)).toBe(steps);
      expect(roundPlainToMultiple(text, HALF)).toBe(Number(steps));
    }
    expect(Object.is(roundPlainToMultiple('-0.1', HALF), 0)).toBe(true);
  });

  it('takes the BigInt path for long digit strings and agrees with it', () => {
    const tenth = parseDecimal('0.1');
    expect(roundPlainToMultiple('0.15', tenth)).toBe(2);
    expect(roundPlainToMultiple('0.1499999999999999999999999', tenth)).toBe(1);
    expect(roundPlainToMultiple('-123456789012345678.05', tenth)).toBe(Number(-1234567890123456781n));
    expect(roundPlainToMultiple('1234567890123.45', tenth)).toBe(12345678901235);
  });

  it('prints a fixed number of decimals and never -0', () => {
    expect(formatScaled(5, 1)).toBe('0.5');
    expect(formatScaled(-5, 1)).toBe('-0.5');
    expect(formatScaled(-0, 1)).toBe('0.0');
    expect(formatScaled(1000, 3)).toBe('1.000');
    expect(formatScaled(-7, 0)).toBe('-7');
    expect(formatScaled(12345, 2)).toBe('123.45');
  });

  it('rounds to significant digits on the written digits, carrying into the exponent', () => {
    const round = (text: string, s: number) => scientificToNumber(roundSignificant(parseScientific(text), s));
    expect(round('0.8125', 3)).toBe(0.813);
    expect(round('-0.8125', 3)).toBe(-0.813);
    expect(round('0.81249999999999999999', 3)).toBe(0.812);
    expect(round('9.995', 3)).toBe(10);
    expect(round('99950', 3)).toBe(100000);
    expect(round('0', 3)).toBe(0);
    expect(round('-0.000e7', 3)).toBe(0);
    expect(parseScientific('0.000123')).toEqual({ negative: false, digits: '123', exponent: -4 });
    expect(parseScientific('1230e-2')).toEqual({ negative: false, digits: '123', exponent: 1 });
    expect(parseScientific('1e99999999999999999999').exponent).toBe(1e20);
  });
});
