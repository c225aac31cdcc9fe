/**
 * OCSF format: one Process Activity event (class_uid 1007, category System
 * Activity) per line, attribute names and types as OCSF 1.9.0-dev defines
 * them (test/events/ocsf.test.ts checks every attribute of every line
 * against the schema's attribute table).
 *
 * Mapping:
 * - exec: Launch (activity_id 1) with launch_type_id 3 (Exec); a failed exec
 *   is the same with status_id 2 (Failure) and status_code = errno name; fork
 *   (where enabled): Launch with launch_type_id 2 (Fork); exit: Terminate (2)
 *   with exit_code and process.terminated_time.
 * - process: the process the event is about; actor.process: who caused it —
 *   the parent for exec and fork, the process itself for exit (OCSF's
 *   reflexive termination).
 * - process.ancestry: OCSF's native ancestry, process_entity objects (pid,
 *   uid = our entity id, name, path, cmd_line, created_time), nearest parent
 *   first; process.lineage: the same ancestors' paths; process.parent_process:
 *   the parent as a process object. process_ancestry_detail=compact leaves
 *   cmd_line out of the ancestry; ids keeps only each uid, and no lineage.
 * - process.path and process.file are the file that ran, as the kernel
 *   resolved it (the interpreter of a script); unmapped.execve_path is the
 *   name exec was given (the script).
 * - process.session (exec): the session the process entered the host
 *   through, from its entry leader (uid, created_time, is_remote for sshd
 *   and SSM), with the controlling terminal; unmapped.entry_leader names
 *   that process and the kind of entry, and for sshd the client's address
 *   (source_ip), which the session object has no attribute for.
 * - Times are epoch ms (timestamp_t); uids and user ids are strings.
 * - `process` comes before `actor` in the line, and its `uid` is its first
 *   uid: src/sinks/kafka/message-key.ts finds the entity id there.
 * - ancestryd's own fields (completeness of the lineage, the parent now,
 *   namespaces, cgroup) go to `unmapped`, OCSF's place for them.
 * - metadata.is_truncated is true, and unmapped.truncated says what, when an
 *   ancestor's text was cut to process_ancestry_field_max_bytes ("ancestry")
 *   or the line was over event_max_bytes and was written again reduced
 *   ("event").
 */
import { ENTRY_TERMINAL, ENTRY_CONSOLE, ENTRY_TYPE_NAMES, entryLeaderIndex, isRemoteEntry, ttyName } from '../ancestry/entry-leader';
import { baseName, exeName, type ExecLineage, type ExitEventView, type ForkEventView, type ProcessView } from '../ancestry/process-view';
import { jsonString } from './json-text';
import type { AncestryDetail } from './ancestor-json';
import { execExtensionFields } from './extension-fields';
import { FieldCap } from './field-cap';
import { AncestorTextCache } from './lineage-element';
import {
  bootPrefix, errnoName, eventId, execCmdline, execPath, StringLineFormat,
  type EventClock, type EventFormat, type FieldCaps, type HostIdentity, truncatedJson,
} from './schema';

/** The OCSF schema version the lines conform to (metadata.version). */
export const OCSF_VERSION = '1.9.0-dev';

export interface OcsfFormatOptions extends FieldCaps {
  host: HostIdentity;
  clock: EventClock;
  /** metadata.product.version; "unknown" when not given. */
  productVersion?: string;
  /** process_ancestry_detail: process_entity objects without cmd_line at compact, uid alone and no lineage at ids. */
  ancestryDetail?: AncestryDetail;
}

const CLASS = '"category_uid":1,"category_name":"System Activity","class_uid":1007,"class_name":"Process Activity"'
  + ',"severity_id":1,"severity":"Informational"';
const LAUNCH = '"activity_id":1,"activity_name":"Launch","type_uid":100701,"type_name":"Process Activity: Launch",' + CLASS;
const TERMINATE = '"activity_id":2,"activity_name":"Terminate","type_uid":100702,"type_name":"Process Activity: Terminate",' + CLASS;
const EXEC = ',"launch_type_id":3,"launch_type":"Exec"';
const FORK = ',"launch_type_id":2,"launch_type":"Fork"';
const SUCCESS = ',"status_id":1,"status":"Success"';

function epochMs(clock: EventClock, bootNs: bigint): number {
  return Number(clock.epochNs(bootNs) / 1_000_000n);
}

function createdMs(v: ProcessView): number {
  return Number(v.startEpochNs / 1_000_000n);
}

/**
 * process.session (exec): the session the process entered through, from its
 * entry leader (src/ancestry/entry-leader.ts): uid its entity id,
 * created_time its start, is_remote for sshd and SSM, terminal the
 * process's controlling terminal. Absent when no entry leader is known.
 */
function sessionJson(p: ProcessView, a: readonly ProcessView[], tty: number): string {
  const i = entryLeaderIndex(p, a);
  if (i === -2) return '';
  const v = i === -1 ? p : a[i];
  const kind = v.entryKind;
  const local = kind === ENTRY_TERMINAL || kind === ENTRY_CONSOLE;
  return ',"session":{"uid":' + jsonString(v.entityId) + ',"created_time":' + createdMs(v)
    + (isRemoteEntry(kind) ? ',"is_remote":true' : local ? ',"is_remote":false' : '')
    + (tty === 0 ? '' : ',"terminal":"' + ttyName(tty) + '"') + '}';
}

/** unmapped.entry_leader: who and how, which OCSF's session cannot say. */
function entryLeaderUnmapped(p: ProcessView, a: readonly ProcessView[]): string {
  const i = entryLeaderIndex(p, a);
  if (i === -2) return '';
  const v = i === -1 ? p : a[i];
  return ',"entry_leader":{"pid":' + v.pid + ',"type":"' + ENTRY_TYPE_NAMES[v.entryKind] + '"'
    + (v.sourceIp === null ? '' : ',"source_ip":"' + v.sourceIp + '"') + '}';
}

/** A process_entity: one element of process.ancestry; compact detail leaves out cmd_line. */
function processEntity(v: ProcessView, withCmdline: boolean, cap: FieldCap): string {
  return '{"pid":' + v.pid
    + ',"uid":' + jsonString(v.entityId)
    + ',"name":' + jsonString(cap.text(exeName(v)))
    + ',"path":' + jsonString(cap.text(v.path))
    + (withCmdline ? ',"cmd_line":' + jsonString(cap.text(v.cmdline)) : '')
    + ',"created_time":' + createdMs(v) + '}';
}

function processEntityId(v: ProcessView): string {
  return '{"uid":' + jsonString(v.entityId) + '}';
}

/** process.lineage: the ancestors' executable paths, nearest first. */
function lineageJson(a: readonly ProcessView[], cap: FieldCap): string {
  let out = '[';
  for (let i = 0; i < a.length; i++) out += (i === 0 ? '' : ',') + jsonString(cap.text(a[i].path));
  return out + ']';
}

/** The user object for a uid: OCSF keeps the id as a string, and numerically in uid_numeric. */
function userJson(uid: number): string {
  return '{"uid":"' + uid + '","uid_numeric":' + uid + '}';
}

/** The file object of an executable path ("" when unknown: no file object); `shown` is the path cut to `cap`. */
function fileJson(path: string, shown: string, cap: FieldCap): string {
  if (path === '') return '';
  return ',"file":{"name":' + jsonString(cap.text(baseName(path, ''))) + ',"path":' + jsonString(shown)
    + ',"type_id":1,"type":"Regular File"}';
}

/**
 * A process object with its own details only (no parent, no ancestry),
 * without the closing brace; its text cut to `cap`.
 */
function processBody(v: ProcessView, path: string, cmdline: string, cap: FieldCap): string {
  const shown = cap.text(path);
  return '{"pid":' + v.pid
    + ',"uid":' + jsonString(v.entityId)
    + ',"name":' + jsonString(cap.text(baseName(path, v.comm)))
    + ',"path":' + jsonString(shown)
    + ',"cmd_line":' + jsonString(cap.text(cmdline))
    + ',"created_time":' + createdMs(v)
    + (v.cwd === null ? '' : ',"working_directory":' + jsonString(cap.text(v.cwd)))
    + ',"user":' + userJson(v.euid)
    + fileJson(path, shown, cap);
}

/** A parent known only by pid and maybe entity id. */
function processRef(pid: number, entityId: string | null): string {
  return '{"pid":' + pid + (entityId === null ? '' : ',"uid":' + jsonString(entityId)) + '}';
}

export class OcsfFormat extends StringLineFormat implements EventFormat {
  readonly name = 'ocsf' as const;
  private readonly clock: EventClock;
  private readonly boot: string;
  /** `,"device":{…}` — constant per daemon. */
  private readonly constantPart: string;
  /** metadata's product and schema version. */
  private readonly productPart: string;
  private readonly ancestors: AncestorTextCache<string>;
  private readonly withLineage: boolean;

  constructor(opts: OcsfFormatOptions) {
    super(opts);
    const detail = opts.ancestryDetail ?? 'full';
    const caps = this.caps;
    this.ancestors = new AncestorTextCache(detail === 'ids' ? processEntityId : (v) => processEntity(v, detail === 'full', caps.ancestor),
      8192, caps.ancestor);
    this.withLineage = detail !== 'ids';
    this.clock = opts.clock;
    this.boot = bootPrefix(opts.clock.bootId);
    const h = opts.host;
    this.constantPart = ',"device":{"hostname":' + jsonString(h.hostname)
      + ',"name":' + jsonString(h.hostIdentifier)
      + (h.machineId === null ? '' : ',"uid":' + jsonString(h.machineId))
      + ',"boot_uid":' + jsonString(h.bootId)
      + ',"type_id":0,"type":"Unknown"}';
    this.productPart = ',"product":{"name":"ancestryd","vendor_name":"ancestryd","version":' + jsonString(opts.productVersion ?? 'unknown') + '}'
      + ',"version":"' + OCSF_VERSION + '"';
  }

  private head(activity: string, ktimeNs: number, id: string, cut: number): string {
    return '{' + activity + ',"time":' + epochMs(this.clock, BigInt(ktimeNs))
      + ',"metadata":{"uid":"' + id + '"' + this.productPart + (cut === 0 ? '' : ',"is_truncated":true') + '}' + this.constantPart;
  }

  exec(l: ExecLineage): string {
    const r = l.record;
    const p = l.process;
    const failed = r.kind === 'exec_failed';
    const a = l.ancestry;
    const cap = this.caps.ancestor;
    this.beginLine();
    const parent = a.length > 0 ? processBody(a[0], a[0].path, a[0].cmdline, cap) + '}' : processRef(p.ppid, p.parentEntityId);
    const lineage = this.withLineage ? ',"lineage":' + lineageJson(a, cap) : '';
    const ancestry = this.joinAncestors(this.ancestors, a, '[', ',', ']');
    const cut = this.endLine();
    return this.head(LAUNCH, r.ktimeNs, eventId(this.boot, r.kind, r.ktimeNs, r.tid), cut) + EXEC
      + (failed ? ',"status_id":2,"status":"Failure","status_code":"' + errnoName(-r.ret) + '"' : SUCCESS)
      + ',"process":' + processBody(p, execPath(l), execCmdline(l), this.caps.own)
      + ',"tid":' + r.tid
      + ',"parent_process":' + parent
      + ',"ancestry":' + ancestry
      + lineage + sessionJson(p, a, r.tty) + '}'
      + ',"actor":{"process":' + parent + '}'
      + ',"unmapped":{' + execExtensionFields(l, 'uid', this.caps.own, cut,
        ',"pgid":' + r.pgid + ',"sid":' + r.sid + entryLeaderUnmapped(p, a) + ',"real_uid":' + p.uid + ',"real_gid":' + p.gid + ',"egid":' + p.egid) + '}}';
  }

  fork(f: ForkEventView): string {
    const r = f.record;
    const p = f.process;
    this.beginLine();
    const parent = f.parent !== null ? processBody(f.parent, f.parent.path, f.parent.cmdline, this.caps.ancestor) + '}' : processRef(r.parentTgid, p.parentEntityId);
    const cut = this.endLine();
    return this.head(LAUNCH, r.ktimeNs, eventId(this.boot, 'fork', r.ktimeNs, r.childTgid), cut) + FORK + SUCCESS
      + ',"process":' + processBody(p, p.path, p.cmdline, this.caps.own) + ',"parent_process":' + parent + '}'
      + ',"actor":{"process":' + parent + '}'
      + ',"unmapped":{"clone_flags":' + r.cloneFlags + ',"creator_pid":' + r.creatorTgid + truncatedJson(cut) + '}}';
  }

  exit(e: ExitEventView): string {
    const r = e.record;
    const p = e.process;
    this.beginLine();
    const cut = this.endLine();
    const self = processBody(p, p.path, p.cmdline, this.caps.own) + ',"terminated_time":' + epochMs(this.clock, BigInt(r.ktimeNs))
      + ',"parent_process":' + processRef(r.ppid, p.parentEntityId) + '}';
    return this.head(TERMINATE, r.ktimeNs, eventId(this.boot, 'exit', r.ktimeNs, r.tgid), cut) + SUCCESS
      + ',"exit_code":' + r.exitCode
      + ',"process":' + self
      + ',"actor":{"process":' + self + '}'
      + ',"unmapped":{"signal":' + r.signal + ',"core_dumped":' + r.coreDumped + ',"wait_status":' + r.status + truncatedJson(cut) + '}}';
  }
}
