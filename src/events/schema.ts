/**
 * What every event format shares: the event types, the format contract the
 * pipeline calls, the host identity stamped on events (resolved in
 * host-identity.ts), and the event id.
 *
 * A format turns one live view (src/ancestry/process-view.ts) into one JSON
 * line, synchronously, and keeps nothing: views are the process table's own
 * entries and change with the next kernel record.
 */
import { constants as osConstants } from 'node:os';
import { argvList } from '../collector/byte-text';
import type { ExecLineage, ExitEventView, ForkEventView, ProcessView } from '../ancestry/process-view';
import { FieldCap } from './field-cap';
import type { LineBuffer } from './line-buffer';
import { type AncestorTextCache, joinAncestry } from './lineage-element';

export type EventType = 'exec' | 'exec_failed' | 'fork' | 'exit';
export const EVENT_TYPES: readonly EventType[] = ['exec', 'exec_failed', 'fork', 'exit'];

export type FormatName = 'osquery' | 'ecs' | 'ocsf';
export const FORMAT_NAMES: readonly FormatName[] = ['osquery', 'ecs', 'ocsf'];

/** The part of collector/boot-clock.ts's BootClock a format needs (BootClock satisfies it). */
export interface EventClock {
  /** boot_id without dashes. */
  readonly bootId: string;
  /** Wall-clock epoch ns of a CLOCK_BOOTTIME instant. */
  epochNs(bootNs: bigint): bigint;
}

export interface HostIdentity {
  readonly hostname: string;
  /** osquery's hostIdentifier (Fleet: the host_identifier sent at enroll). */
  readonly hostIdentifier: string;
  /** /etc/machine-id: stable across boots; null when unreadable. */
  readonly machineId: string | null;
  readonly bootId: string;
}

/**
 * Caps on process-controlled text (src/events/field-cap.ts), shared by the
 * formats' options.
 */
export interface FieldCaps {
  /** process_ancestry_field_max_bytes: each ancestor's path, cmdline, cwd and args; no cap by default. */
  ancestorFieldMaxBytes?: number;
  /**
   * Every text field of a line, the event's own included: set only for the
   * reduced format, which writes again a line that was over event_max_bytes
   * (with ancestry detail ids) and flags it ("event").
   */
  fieldMaxBytes?: number;
}

/** EventFormat.lastCut bits: what the last line had cut to fit. */
export const CUT_ANCESTRY = 1;
export const CUT_EVENT = 2;

/** `,"truncated":[…]` naming what CUT_* bits say was cut, or "" (ECS ancestryd.truncated, OCSF unmapped.truncated). */
export function truncatedJson(cut: number): string {
  return cut === 0 ? '' : ',"truncated":' + (cut === CUT_ANCESTRY ? '["ancestry"]' : cut === CUT_EVENT ? '["event"]' : '["ancestry","event"]');
}

/** A format's caps on process-controlled text, from its options (src/events/field-cap.ts). */
export interface LineCaps {
  /** Ancestors' text (the reduced format's cap applies to them too). */
  readonly ancestor: FieldCap;
  /** The event's own text: uncapped, except in the reduced format. */
  readonly own: FieldCap;
  /** CUT_EVENT in the reduced format (every line it writes was over event_max_bytes), else 0. */
  readonly reduced: number;
}

export function lineCaps(opts: FieldCaps): LineCaps {
  const all = opts.fieldMaxBytes;
  return {
    ancestor: new FieldCap(Math.min(opts.ancestorFieldMaxBytes ?? Infinity, all ?? Infinity)),
    own: all === undefined ? FieldCap.NONE : new FieldCap(all),
    reduced: all === undefined ? 0 : CUT_EVENT,
  };
}

/**
 * One output format. Each function returns one JSON object as a string
 * without a trailing newline; exec() handles exec and exec_failed (by
 * lineage.record.kind). The daemon decides which event types are enabled
 * and calls only those.
 */
export interface EventFormat {
  readonly name: FormatName;
  /** CUT_* bits of the last line written or returned: an ancestor's field, or the whole line (reduced format). */
  readonly lastCut: number;
  exec(lineage: ExecLineage): string;
  fork(event: ForkEventView): string;
  exit(event: ExitEventView): string;
  /** The same lines written into the drain pass's buffer (the pipeline's path); the caller ends the line. */
  writeExec(lineage: ExecLineage, out: LineBuffer): void;
  writeFork(event: ForkEventView, out: LineBuffer): void;
  writeExit(event: ExitEventView, out: LineBuffer): void;
}

/** bpf/exec_trace.h's et_kind numbers, as event ids carry them. */
const EVENT_KIND_NUMBER: Readonly<Record<EventType, number>> = { exec: 1, exec_failed: 2, fork: 3, exit: 4 };

/**
 * Deterministic event id: "<first 8 hex of boot id>-<ktime ns>-<tid>-<kind>"
 * (kind numbers as bpf/exec_trace.h's et_kind). The kernel timestamp and
 * thread make it unique within a boot; the boot prefix keeps boots apart.
 * Being deterministic, a consumer can drop the duplicates that
 * at-least-once delivery may produce after a crash.
 */
export function eventId(bootPrefix: string, type: EventType, ktimeNs: number, tid: number): string {
  return bootPrefix + '-' + ktimeNs + '-' + tid + '-' + EVENT_KIND_NUMBER[type];
}

const DASH = Buffer.from('-');
const EVENT_ID_END = Object.fromEntries(
  Object.entries(EVENT_KIND_NUMBER).map(([type, n]) => [type, Buffer.from('-' + n)])) as Readonly<Record<EventType, Buffer>>;

/** eventId written into a line buffer: the exec path's, where the string's five pieces would be garbage per event. */
export function writeEventId(out: LineBuffer, bootPrefix: string, type: EventType, ktimeNs: number, tid: number): void {
  out.ascii(bootPrefix);
  out.bytes(DASH);
  out.int(ktimeNs);
  out.bytes(DASH);
  out.int(tid);
  out.bytes(EVENT_ID_END[type]);
}

export function bootPrefix(bootId: string): string {
  return bootId.slice(0, 8);
}

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, n]) => [n, name]),
);

/**
 * The image an exec line describes: for a failed exec what exec was asked to
 * run (the record's name and argv; nothing ran), else the process's image
 * (its resolved path, or the name given when the kernel could not resolve it).
 */
export function execPath(l: ExecLineage): string {
  return l.record.kind === 'exec_failed' || l.process.path === '' ? l.record.filename : l.process.path;
}

export function execArgv(l: ExecLineage): readonly string[] {
  return l.record.kind === 'exec_failed' ? argvList(l.record.argvText) : l.process.argv;
}

/** execArgv joined with spaces: osquery's cmdline. */
export function execCmdline(l: ExecLineage): string {
  return l.record.kind === 'exec_failed' ? l.record.cmdline : l.process.cmdline;
}

/**
 * A format that builds its lines as strings (ECS, OCSF): the pipeline's
 * write* copy them into the drain pass's buffer. The default osquery format
 * writes bytes directly instead.
 *
 * It also keeps each line's CUT_* bits: a line starts with beginLine(),
 * renders its ancestors' text with caps.ancestor (directly, or through
 * joinAncestors()), and endLine() says what was cut.
 */
export abstract class StringLineFormat {
  protected readonly caps: LineCaps;
  lastCut = 0;

  constructor(opts: FieldCaps) {
    this.caps = lineCaps(opts);
  }

  abstract exec(lineage: ExecLineage): string;
  abstract fork(event: ForkEventView): string;
  abstract exit(event: ExitEventView): string;

  writeExec(l: ExecLineage, out: LineBuffer): void {
    out.utf8(this.exec(l));
  }

  writeFork(f: ForkEventView, out: LineBuffer): void {
    out.utf8(this.fork(f));
  }

  writeExit(e: ExitEventView, out: LineBuffer): void {
    out.utf8(this.exit(e));
  }

  protected beginLine(): void {
    this.caps.ancestor.hit = false;
  }

  /**
   * joinAncestry(), an element the cap cut (now or when it was cached)
   * counting as ancestors' text cut. The cache clears the cap's flag when it
   * renders, hence the flag kept across the call.
   */
  protected joinAncestors(cache: AncestorTextCache<string>, a: readonly ProcessView[], open: string, sep: string, close: string): string {
    const hit = this.caps.ancestor.hit;
    cache.truncated = false;
    const text = joinAncestry(cache, a, open, sep, close);
    this.caps.ancestor.hit = hit || cache.truncated;
    return text;
  }

  /** The line's CUT_* bits, kept in lastCut: ancestors' text cut since beginLine(), and the reduced format's. */
  protected endLine(): number {
    this.lastCut = (this.caps.ancestor.hit ? CUT_ANCESTRY : 0) | this.caps.reduced;
    return this.lastCut;
  }
}

/** "ENOENT" for 2; "E<n>" for an errno Node does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? 'E' + errno;
}
