import { FROC_FP_RATES, froc } from './froc';
import { parseCandidatesCsv, parseFindingsCsv } from './luna16-csv';

/**
 * A competition metric: what the leaderboard and `cage score` compute from a predictions file,
 * the hidden labels and the scans scored. A new metric is a file beside this one that exports a
 * `ScoringMetric`, added to METRICS; a competition names its metric in policies/leaderboard.json.
 */
export interface ScoringMetric {
  name: string;
  title: string;
  /** Higher is better; the leaderboard ranks and the Ladder steps on `score`. */
  score(files: MetricFiles, scans: ReadonlySet<string>): MetricScore;
}

export interface MetricFiles {
  /** The hidden labels (for LUNA16: annotations.csv). */
  labels: string;
  /** Findings neither counted nor charged (LUNA16: annotations_excluded.csv), when there are any. */
  excluded?: string;
  predictions: string;
}

export interface MetricScore {
  score: number;
  /** The figures behind the score, for organizers (never shown to a team as they are). */
  detail: Record<string, number | number[]>;
}

export const luna16Froc: ScoringMetric = {
  name: 'luna16-froc',
  title: 'LUNA16 FROC: mean sensitivity at 1/8 to 8 false positives per scan (CPM)',
  score(files, scans) {
    const r = froc({
      scans,
      nodules: parseFindingsCsv(files.labels, 'annotations'),
      excluded: files.excluded === undefined ? [] : parseFindingsCsv(files.excluded, 'excluded'),
      candidates: parseCandidatesCsv(files.predictions),
    });
    return {
      score: r.cpm,
      detail: {
        sensitivities: r.sensitivities,
        fpRates: [...FROC_FP_RATES],
        nodules: r.nodules,
        detected: r.detected,
        falsePositives: r.falsePositives,
        scans: r.scans,
      },
    };
  },
};

export const METRICS: ReadonlyMap<string, ScoringMetric> = new Map([[luna16Froc.name, luna16Froc]]);
