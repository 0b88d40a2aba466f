import fc from 'fast-check';
import { decimalsOf, ladder, ladderAnswerBits, roundToStep } from './ladder';
import { splitScans } from './split';

describe('the Ladder (Blum & Hardt, 2015)', () => {
  it('shows the first score rounded to the step, then moves only on a gain of more than a step', () => {
    expect(ladder(undefined, 0.6243, 0.01)).toEqual({ shown: 0.62, improved: true });
    expect(ladder(0.62, 0.6299, 0.01)).toEqual({ shown: 0.62, improved: false });
    expect(ladder(0.62, 0.63, 0.01)).toEqual({ shown: 0.62, improved: false });
    expect(ladder(0.62, 0.6351, 0.01)).toEqual({ shown: 0.64, improved: true });
    expect(ladder(0.62, 0.1, 0.01)).toEqual({ shown: 0.62, improved: false });
  });

  it('should not let submissions that only overfit the public part raise the shown score beyond the step', () => {
    // A team's true score s; each submission's public score is s plus noise smaller than the
    // step (what re-submitting variants that fit the public part's quirks buys). However many,
    // the shown score stays within a step of the first one shown.
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.array(fc.double({ min: -0.0099, max: 0.0099, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (s, noise) => {
          const first = ladder(undefined, s, 0.01).shown;
          let best = first;
          let moves = 0;
          for (const n of noise) {
            const step = ladder(best, s + n, 0.01);
            if (step.improved) moves++;
            best = step.shown;
          }
          expect(best).toBeLessThanOrEqual(first + 0.01 + 1e-12);
          // At most one answer in the whole sequence says anything new.
          expect(moves).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('where a board of best exact scores would climb past the step on the same noise', () => {
    // 0.6249 is shown as 0.62; noise +0.0099 makes 0.6348, past 0.62 + one step: a board of
    // exact bests would show it. The Ladder shows 0.63, the first shown plus one step, no more.
    const first = ladder(undefined, 0.6249, 0.01).shown;
    expect(first).toBe(0.62);
    const noisy = 0.6249 + 0.0099;
    expect(noisy).toBeGreaterThan(first + 0.01);
    expect(ladder(first, noisy, 0.01)).toEqual({ shown: 0.63, improved: true });
    // And once there, the same noise moves it no further.
    expect(ladder(0.63, noisy, 0.01)).toEqual({ shown: 0.63, improved: false });
  });

  it('rounds to the step exactly and charges log2(levels + 1) bits', () => {
    expect(roundToStep(0.615, 0.05)).toBe(0.6);
    expect(roundToStep(0.123456, 0.001)).toBe(0.123);
    expect(decimalsOf(0.01)).toBe(2);
    expect(decimalsOf(1e-7)).toBe(7);
    expect(ladderAnswerBits(0.01)).toBeCloseTo(Math.log2(102), 12);
    expect(ladderAnswerBits(0.5)).toBeCloseTo(Math.log2(4), 12);
    // Every value a score in [0, 1] can be shown as is counted, 1.05 included at a 0.15 step.
    for (const step of [0.15, 0.4, 0.3, 0.07, 0.01]) {
      const shown = new Set(Array.from({ length: 10_001 }, (_, i) => roundToStep(i / 10_000, step)));
      expect(2 ** ladderAnswerBits(step)).toBeCloseTo(shown.size + 1, 9);
    }
  });
});

describe('the public/private split', () => {
  const scans = Array.from({ length: 40 }, (_, i) => `1.2.840.${i}`);

  it('is a function of the seed: the same seed the same parts, another seed other parts', () => {
    const a = splitScans(Buffer.alloc(32, 1), scans, 0.5);
    expect(splitScans(Buffer.alloc(32, 1), [...scans].reverse(), 0.5)).toEqual(a);
    expect(splitScans(Buffer.alloc(32, 2), scans, 0.5).public).not.toEqual(a.public);
    expect(a.public.size).toBe(20);
    expect([...a.public].some((s) => a.private.has(s))).toBe(false);
  });

  it('keeps a scan in each part, and refuses fewer than two scans', () => {
    expect(splitScans(Buffer.alloc(32), ['a', 'b'], 0.01).public.size).toBe(1);
    expect(splitScans(Buffer.alloc(32), ['a', 'b'], 0.99).private.size).toBe(1);
    expect(() => splitScans(Buffer.alloc(32), ['a'], 0.5)).toThrow('at least two test scans');
  });
});
