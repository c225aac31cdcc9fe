/**
 * A growing list of numeric samples (latencies in ms) with the summaries the
 * reports print: count, quantiles (nearest rank), max, and a log-scale
 * histogram.
 */
export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface HistogramBin {
  /** Lower edge (inclusive), same unit as the samples. */
  lo: number;
  /** Upper edge (exclusive). */
  hi: number;
  count: number;
}

export class Samples {
  private buf = new Float64Array(1024);
  private n = 0;
  private sorted = true;

  get count(): number {
    return this.n;
  }

  add(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    if (this.n > 0 && v < this.buf[this.n - 1]) this.sorted = false;
    this.buf[this.n++] = v;
  }

  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }

  private sortedValues(): Float64Array {
    const v = this.buf.subarray(0, this.n);
    if (!this.sorted) {
      v.sort();
      this.sorted = true;
    }
    return v;
  }

  /** Nearest-rank quantile, q in [0, 1]; NaN when empty. */
  quantile(q: number): number {
    const v = this.sortedValues();
    if (v.length === 0) return NaN;
    return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
  }

  summary(): Summary {
    const v = this.sortedValues();
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i];
    return {
      count: v.length,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: v.length ? v[v.length - 1] : NaN,
      mean: v.length ? sum / v.length : NaN,
    };
  }

  /**
   * Bins of equal width on a log scale, `perDecade` per power of ten, from
   * the decade below the smallest positive sample to the one above the
   * largest; samples <= 0 go to the first bin.
   */
  histogram(perDecade = 5): HistogramBin[] {
    const v = this.sortedValues();
    if (v.length === 0) return [];
    const positive = v.find((x) => x > 0) ?? 1;
    const lo = Math.floor(Math.log10(positive));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(v[v.length - 1], positive)) + 1e-12));
    const bins: HistogramBin[] = [];
    for (let i = 0; i < (hi - lo) * perDecade; i++) {
      bins.push({ lo: 10 ** (lo + i / perDecade), hi: 10 ** (lo + (i + 1) / perDecade), count: 0 });
    }
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const k = x <= 0 ? 0 : Math.floor((Math.log10(x) - lo) * perDecade);
      bins[Math.min(bins.length - 1, Math.max(0, k))].count++;
    }
    return bins;
  }
}

/** Nearest-rank quantiles of a plain array (small per-second windows). */
export function summarize(xs: readonly number[]): Summary {
  const s = new Samples();
  for (const x of xs) s.add(x);
  return s.summary();
}
