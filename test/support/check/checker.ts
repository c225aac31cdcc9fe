/**
 * Compares the daemon's exec lines with procgen's ground truth, as they
 * stream in (either may come first), and keeps only counters, pending
 * entries and a few examples per finding.
 *
 * Per truth tag, exactly one exec line is expected:
 *  - none                 → lost
 *  - more than one        → duplicate (the extra lines)
 *  - a line, no truth     → unmatched (the truth file is incomplete)
 * and the line must carry (maxDepth = process_ancestry_max_depth):
 *  - the exec'ing process: pid, and start ticks from its entity_id;
 *  - ancestry[i] = truth.lineage[i] as (pid, ticks), for i < min(maxDepth, truth length);
 *  - complete = 1 exactly when it carries the whole expected lineage and the
 *    truth is not deeper than maxDepth;
 *  - current_parent = the parent just before exec (after any reparenting).
 * An incomplete lineage that is a correct prefix is "incomplete" (honest), not
 * wrong. Whatever else differs is wrong, with expected vs got.
 */
import type { ObservedExec } from './result-line';
import type { PidTicks, TruthExec } from './truth';

export type WrongKind =
  | 'self_pid' | 'self_start' | 'lineage_element' | 'lineage_too_long' | 'complete_but_short'
  | 'complete_but_capped' | 'element_inconsistent' | 'current_parent';

export interface Finding {
  tag: string;
  mode: string;
  kind: string;
  detail: string;
  expected?: { pid: number; startTicks: number; lineage: PidTicks[]; parentNow: number };
  got?: { pid: number; startTicks: number | null; ancestry: PidTicks[]; complete: boolean; reason: string; currentParent: number };
}

export interface ModeCounts {
  truth: number;
  matched: number;
  correct: number;
  lost: number;
  wrong: number;
  incomplete: number;
  duplicates: number;
  execFailed: number;
}

export interface CheckReport {
  maxDepth: number;
  truth: number;
  observed: number;
  matched: number;
  /** Matched, complete and equal to the truth. */
  correct: number;
  lost: number;
  wrong: number;
  duplicates: number;
  /** Exec lines of our tag with no truth line. */
  unmatched: number;
  /** exec_failed lines of our tag (the generator's exec failed: not the daemon's doing). */
  execFailed: number;
  incomplete: {
    total: number;
    byReason: Record<string, number>;
    /** Flagged incomplete although the whole expected lineage is there. */
    needless: number;
  };
  wrongByKind: Record<string, number>;
  byMode: Record<string, ModeCounts>;
  examples: { lost: Finding[]; wrong: Finding[]; duplicates: Finding[]; unmatched: Finding[]; incomplete: Finding[] };
  /** lost = 0 and wrong = 0 and duplicates = 0 and unmatched = 0. */
  ok: boolean;
}

export interface CheckerOptions {
  /** process_ancestry_max_depth of the daemon checked. */
  maxDepth: number;
  /** Examples kept per finding kind and mode. Default 3. */
  examples?: number;
}

const emptyMode = (): ModeCounts => ({ truth: 0, matched: 0, correct: 0, lost: 0, wrong: 0, incomplete: 0, duplicates: 0, execFailed: 0 });

type Verdict = { kind: 'correct' } | { kind: 'incomplete'; reason: string; needless: boolean } | { kind: 'wrong'; wrong: WrongKind; detail: string };

/** The verdict for one truth and the line that reported it. Exported for tests. */
export function judge(t: TruthExec, o: ObservedExec, maxDepth: number): Verdict {
  if (o.pid !== t.pid) return { kind: 'wrong', wrong: 'self_pid', detail: `pid ${o.pid}, expected ${t.pid}` };
  if (o.startTicks !== t.startTicks) {
    return { kind: 'wrong', wrong: 'self_start', detail: `entity_id start ticks ${o.startTicks}, expected ${t.startTicks}` };
  }
  if (o.inconsistent.length > 0) return { kind: 'wrong', wrong: 'element_inconsistent', detail: o.inconsistent.join('; ') };
  const expected = t.lineage.slice(0, maxDepth);
  const deeper = t.lineage.length > maxDepth;
  const n = Math.min(o.ancestry.length, expected.length);
  for (let i = 0; i < n; i++) {
    const [gp, gt] = o.ancestry[i];
    const [ep, et] = expected[i];
    if (gp !== ep || gt !== et) {
      return { kind: 'wrong', wrong: 'lineage_element', detail: `ancestry[${i}] = (${gp}, ${gt}), expected (${ep}, ${et})` };
    }
  }
  if (o.ancestry.length > expected.length) {
    return { kind: 'wrong', wrong: 'lineage_too_long', detail: `${o.ancestry.length} ancestors, expected ${expected.length}${deeper ? ` (max depth ${maxDepth})` : ''}` };
  }
  if (o.currentParent !== t.parentNow) {
    return { kind: 'wrong', wrong: 'current_parent', detail: `current_parent ${o.currentParent}, expected ${t.parentNow}` };
  }
  if (o.ancestry.length < expected.length) {
    if (o.complete) {
      return { kind: 'wrong', wrong: 'complete_but_short', detail: `complete with ${o.ancestry.length} of ${expected.length} ancestors` };
    }
    return { kind: 'incomplete', reason: o.incompleteReason || '(none given)', needless: false };
  }
  if (deeper) {
    if (o.complete) {
      return { kind: 'wrong', wrong: 'complete_but_capped', detail: `complete, but the truth has ${t.lineage.length} ancestors (max depth ${maxDepth})` };
    }
    return { kind: 'incomplete', reason: o.incompleteReason || '(none given)', needless: false };
  }
  if (!o.complete) return { kind: 'incomplete', reason: o.incompleteReason || '(none given)', needless: true };
  return { kind: 'correct' };
}

export class Checker {
  private readonly maxDepth: number;
  private readonly keep: number;
  /** Truths whose line has not arrived yet. */
  private readonly waitingTruth = new Map<string, TruthExec>();
  /** Lines whose truth has not arrived yet. */
  private readonly waitingLine = new Map<string, ObservedExec>();
  /** Tags already judged (or failed): a second line is a duplicate. */
  private readonly judged = new Map<string, string>();
  private readonly r: CheckReport;
  /** Examples kept so far per finding kind and mode. */
  private readonly kept = new Map<string, number>();

  constructor(opts: CheckerOptions) {
    this.maxDepth = opts.maxDepth;
    this.keep = opts.examples ?? 3;
    this.r = {
      maxDepth: opts.maxDepth, truth: 0, observed: 0, matched: 0, correct: 0, lost: 0, wrong: 0, duplicates: 0, unmatched: 0,
      execFailed: 0, incomplete: { total: 0, byReason: {}, needless: 0 }, wrongByKind: {}, byMode: {},
      examples: { lost: [], wrong: [], duplicates: [], unmatched: [], incomplete: [] }, ok: false,
    };
  }

  /** Truths seen whose line has not arrived (yet). */
  get pendingTruth(): number {
    return this.waitingTruth.size;
  }

  get matched(): number {
    return this.r.matched;
  }

  addTruth(t: TruthExec): void {
    this.r.truth++;
    this.mode(t.mode).truth++;
    const line = this.waitingLine.get(t.tag);
    if (line === undefined) {
      this.waitingTruth.set(t.tag, t);
      return;
    }
    this.waitingLine.delete(t.tag);
    this.match(t, line);
  }

  addObserved(o: ObservedExec): void {
    this.r.observed++;
    const mode = this.judged.get(o.tag);
    if (mode !== undefined || this.waitingLine.has(o.tag)) {
      this.r.duplicates++;
      if (mode !== undefined) this.mode(mode).duplicates++;
      this.example('duplicates', { tag: o.tag, mode: mode ?? '?', kind: 'duplicate', detail: `a second ${o.kind} line for ${o.tag}` });
      return;
    }
    const t = this.waitingTruth.get(o.tag);
    if (t === undefined) {
      this.waitingLine.set(o.tag, o);
      return;
    }
    this.waitingTruth.delete(o.tag);
    this.match(t, o);
  }

  /** Everything still waiting is lost (truth without line) or unmatched (line without truth). */
  finish(): CheckReport {
    const r = this.r;
    for (const t of this.waitingTruth.values()) {
      r.lost++;
      this.mode(t.mode).lost++;
      this.example('lost', { tag: t.tag, mode: t.mode, kind: 'lost', detail: `no exec line for pid ${t.pid} (start ticks ${t.startTicks})` });
    }
    this.waitingTruth.clear();
    for (const o of this.waitingLine.values()) {
      r.unmatched++;
      this.example('unmatched', { tag: o.tag, mode: '?', kind: 'unmatched', detail: `an exec line for ${o.tag} (pid ${o.pid}) that no truth line announced` });
    }
    this.waitingLine.clear();
    r.ok = r.lost === 0 && r.wrong === 0 && r.duplicates === 0 && r.unmatched === 0;
    return r;
  }

  private match(t: TruthExec, o: ObservedExec): void {
    const r = this.r;
    const m = this.mode(t.mode);
    this.judged.set(t.tag, t.mode);
    r.matched++;
    m.matched++;
    if (o.kind === 'exec_failed') {
      r.execFailed++;
      m.execFailed++;
      return;
    }
    const v = judge(t, o, this.maxDepth);
    const finding = (kind: string, detail: string): Finding => ({
      tag: t.tag, mode: t.mode, kind, detail,
      expected: { pid: t.pid, startTicks: t.startTicks, lineage: t.lineage, parentNow: t.parentNow },
      got: { pid: o.pid, startTicks: o.startTicks, ancestry: o.ancestry, complete: o.complete, reason: o.incompleteReason, currentParent: o.currentParent },
    });
    if (v.kind === 'correct') {
      r.correct++;
      m.correct++;
    } else if (v.kind === 'incomplete') {
      r.incomplete.total++;
      r.incomplete.byReason[v.reason] = (r.incomplete.byReason[v.reason] ?? 0) + 1;
      if (v.needless) r.incomplete.needless++;
      m.incomplete++;
      this.example('incomplete', finding(`incomplete:${v.reason}`, v.needless ? 'flagged incomplete, but the whole lineage is there' : `an honest prefix of ${o.ancestry.length} ancestors`));
    } else {
      r.wrong++;
      m.wrong++;
      r.wrongByKind[v.wrong] = (r.wrongByKind[v.wrong] ?? 0) + 1;
      this.example('wrong', finding(v.wrong, v.detail));
    }
  }

  private mode(name: string): ModeCounts {
    return (this.r.byMode[name] ??= emptyMode());
  }

  /** Keeps up to `examples` findings of each kind per mode. */
  private example(kind: keyof CheckReport['examples'], f: Finding): void {
    const key = `${kind}/${f.mode}`;
    const n = this.kept.get(key) ?? 0;
    if (n >= this.keep) return;
    this.kept.set(key, n + 1);
    this.r.examples[kind].push(f);
  }
}
