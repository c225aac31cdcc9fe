/**
 * Renders one lineage element as JSON text, with the field names of the
 * osquery `process_events.ancestry` column this project replaces, plus what
 * a detection engineer needs to join and trust it.
 *
 * Text, not an object: start times are 64-bit nanoseconds and must come out
 * as exact integers (JSON.stringify cannot print a bigint, and a Number
 * loses the last digits). Strings go through JSON.stringify, which escapes
 * quotes, control characters and NULs; byte-text.ts has already turned bytes
 * that are not UTF-8 into \xNN, so any path or argv yields valid JSON
 * (issue 3: the replaced system emitted invalid JSON for quoted argv).
 *
 * Fields of a full element, in order:
 *   exe_name          basename of path, or comm when the path is unknown
 *   pid, ppid         ppid is the fork-time parent, the one the lineage follows
 *   path, cmdline     cmdline is argv joined with spaces
 *   proc_time         start, epoch seconds
 *   proc_time_hr      start, epoch nanoseconds
 *   entity_id         identity.ts format; parent_entity_id likewise or null
 *   uid, gid, euid, egid
 *   start_boottime    start, ns since boot (the kernel's start_boottime)
 *   comm, cwd         cwd is null unless read from /proc
 *   source            "event" | "bootstrap" | "procfs": where the details came from
 *   exited            the ancestor had exited when this was rendered
 *   truncated         true when path, cmdline or cwd was cut to
 *                     process_ancestry_field_max_bytes (absent otherwise)
 */
import { exeName, type ProcessView } from '../ancestry/process-view';
import { FieldCap } from './field-cap';
import { jsonString } from './json-text';

/**
 * How much of each ancestor an exec line carries (process_ancestry_detail):
 * full, every field below; compact, what a detection joins on and reads
 * (entity_id, pid, ppid, exe_name, path, proc_time_hr); ids, the entity id
 * alone, as Elastic's endpoint ships ancestry. Every exec line repeats its
 * whole chain, so this decides most of the volume a SIEM ingests and bills.
 */
export type AncestryDetail = 'full' | 'compact' | 'ids';
export const ANCESTRY_DETAILS: readonly AncestryDetail[] = ['full', 'compact', 'ids'];

/**
 * One element, rendered afresh (formats cache it: lineage-element.ts), its
 * process-controlled text fields cut to `cap` (cap.hit clear on entry).
 */
export function ancestorJson(v: ProcessView, detail: AncestryDetail = 'full', cap = FieldCap.NONE): string {
  return detail === 'full' ? render(v, cap) : detail === 'compact' ? renderCompact(v, cap) : jsonString(v.entityId);
}

/** Whole seconds of a decimal ns count, without bigint division. */
function epochSeconds(ns: string): string {
  return ns.length > 9 ? ns.slice(0, ns.length - 9) : '0';
}

function str(s: string | null): string {
  return s === null ? 'null' : jsonString(s);
}

/** The element's closing brace, after a flag when the cap cut one of its fields. */
function close(cap: FieldCap): string {
  return cap.hit ? ',"truncated":true}' : '}';
}

function renderCompact(v: ProcessView, cap: FieldCap): string {
  const path = cap.text(v.path);
  return '{"entity_id":' + str(v.entityId)
    + ',"pid":' + v.pid
    + ',"ppid":' + v.ppid
    + ',"exe_name":' + str(cap.text(exeName(v)))
    + ',"path":' + str(path)
    + ',"proc_time_hr":' + v.startEpochNs.toString()
    + close(cap);
}

function render(v: ProcessView, cap: FieldCap): string {
  const hr = v.startEpochNs.toString();
  const path = cap.text(v.path);
  const cmdline = cap.text(v.cmdline);
  const cwd = v.cwd === null ? null : cap.text(v.cwd);
  return '{"exe_name":' + str(cap.text(exeName(v)))
    + ',"pid":' + v.pid
    + ',"ppid":' + v.ppid
    + ',"path":' + str(path)
    + ',"cmdline":' + str(cmdline)
    + ',"proc_time":' + epochSeconds(hr)
    + ',"proc_time_hr":' + hr
    + ',"entity_id":' + str(v.entityId)
    + ',"parent_entity_id":' + str(v.parentEntityId)
    + ',"uid":' + v.uid
    + ',"gid":' + v.gid
    + ',"euid":' + v.euid
    + ',"egid":' + v.egid
    + ',"start_boottime":' + v.startBoottimeNs.toString()
    + ',"comm":' + str(v.comm)
    + ',"cwd":' + str(cwd)
    + ',"source":' + str(v.source)
    + ',"exited":' + (v.exitBootNs !== null ? 'true' : 'false')
    + close(cap);
}
