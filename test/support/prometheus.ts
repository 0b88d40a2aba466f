import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/**
 * A scrape of GET /metrics, parsed by a Prometheus text-format parser (not by the code under
 * test), with lookups by family name and labels.
 */
export interface Sample {
  labels?: Record<string, string>;
  value?: string;
}

export interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

export class Scrape {
  /** The metric families, as the parser returns them (name, type, help, samples). */
  readonly families: Map<string, Family>;
  /**
   * Every sample as a plain series, a classic histogram's too (`_bucket{le}`, `_sum`, `_count`),
   * which is how Prometheus stores them. The parser's family view merges the series of a
   * histogram that has labels besides `le` (yunyu/parse-prometheus-text-format#13), so histogram
   * values are read from here, with the histogram `# TYPE` lines read as `untyped`.
   */
  private readonly series: Map<string, Family>;

  constructor(readonly text: string) {
    this.families = byName(parsePrometheusTextFormat(text) as Family[]);
    // Untyped, a histogram's series come back as one run per label set: merged by name here.
    this.series = byName(parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as Family[]);
  }

  family(name: string): Family {
    const f = this.families.get(name);
    if (f === undefined) throw new Error(`no metric family ${name} in the scrape`);
    return f;
  }

  /**
   * The series of one name whose labels include every given label (all of them with no filter).
   * None yet is fine for a declared family (a labelled metric before its first event); an
   * undeclared name is an error.
   */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    const f = this.series.get(name);
    if (f === undefined) {
      if (this.families.has(name.replace(/_(bucket|sum|count)$/, ''))) return [];
      throw new Error(`no series ${name} in the scrape`);
    }
    return f.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** A counter's or gauge's value for exactly one series (0 when the series does not exist yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.samples(name, labels);
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
    return found.length === 0 ? 0 : Number(found[0].value);
  }

  /** The sum over every series that matches (a counter across the labels not given). */
  total(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((a, m) => a + Number(m.value), 0);
  }

  /** A histogram's count and sum for exactly one label set (zeros when it does not exist yet). */
  histogram(name: string, labels: Record<string, string> = {}): { count: number; sum: number } {
    return { count: this.value(`${name}_count`, labels), sum: this.value(`${name}_sum`, labels) };
  }

  /** A histogram's series, each with its buckets as [upper bound, cumulative count] in bound order, and its count. */
  histogramSeries(name: string): { labels: Record<string, string>; buckets: [number, number][]; count: number }[] {
    const out = new Map<string, { labels: Record<string, string>; buckets: [number, number][]; count: number }>();
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    for (const c of this.samples(`${name}_count`))
      out.set(key(c.labels ?? {}), { labels: c.labels ?? {}, buckets: [], count: Number(c.value) });
    for (const b of this.samples(`${name}_bucket`)) {
      const { le, ...rest } = b.labels ?? {};
      const series = out.get(key(rest));
      if (series === undefined || le === undefined) throw new Error(`${name}_bucket ${JSON.stringify(b.labels)} has no _count or no le`);
      series.buckets.push([le === '+Inf' ? Infinity : Number(le), Number(b.value)]);
    }
    for (const s of out.values()) s.buckets.sort((a, b) => a[0] - b[0]);
    return [...out.values()];
  }

  /** Every label value of every series. */
  labelValues(): string[] {
    return [...this.series.values()].flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
  }
}

function byName(families: Family[]): Map<string, Family> {
  const out = new Map<string, Family>();
  for (const f of families) {
    const seen = out.get(f.name);
    if (seen === undefined) out.set(f.name, { ...f, metrics: [...f.metrics] });
    else seen.metrics.push(...f.metrics);
  }
  return out;
}
