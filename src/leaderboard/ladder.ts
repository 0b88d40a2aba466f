/**
 * The Ladder (Blum & Hardt, 2015, "The Ladder: A Reliable Leaderboard for Machine Learning
 * Competitions"): a team's shown score moves only when a submission beats it by more than the
 * step, and then to the submission's score rounded to the step. Submissions that only overfit
 * the public part (each a little better by chance) leave the shown score where it is, so
 * probing the public labels through the leaderboard stops paying. Higher scores are better.
 */
export function ladder(best: number | undefined, score: number, step: number): { shown: number; improved: boolean } {
  if (!(step > 0) || !Number.isFinite(score)) throw new RangeError('the Ladder needs a positive step and a finite score');
  if (best !== undefined && !(score > best + step)) return { shown: best, improved: false };
  const shown = roundToStep(score, step);
  return { shown, improved: best === undefined || shown > best };
}

/** `value` rounded to the nearest multiple of `step`, printed with the step's decimals (no 0.6200000001). */
export function roundToStep(value: number, step: number): number {
  return Number((Math.round(value / step) * step).toFixed(decimalsOf(step)));
}

export function decimalsOf(step: number): number {
  const s = String(step);
  const e = /e-(\d+)$/.exec(s);
  if (e !== null) return Number(e[1]) + (s.split('e')[0].split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

/**
 * Bits one answer can carry: one of the step's grid values a score in [0, 1] rounds to (the first
 * answer, or an improvement) or "unchanged" — log2(levels + 1).
 */
export function ladderAnswerBits(step: number): number {
  // The values roundToStep gives on [0, 1]: 0, step, …, round(1 / step) × step (which may pass 1).
  const levels = Math.round(1 / step) + 1;
  return Math.log2(levels + 1);
}
