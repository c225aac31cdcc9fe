/**
 * Exponential backoff with "equal jitter": attempt n waits between half and
 * all of min(maxMs, initialMs · 2^n). The jitter spreads many daemons that
 * lost the same server; the floor keeps the wait meaningful.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
