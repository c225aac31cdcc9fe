/**
 * Elastic Common Schema (ECS 9.4) format: one JSON document per event. Every
 * field inside an ECS field set is an ECS field of its ECS type
 * (test/events/ecs.test.ts checks each line against the ECS 9.4.0 field
 * reference); ancestryd's own fields live in the custom `ancestryd.*`
 * namespace or under `.Ext.`, as ECS asks.
 *
 * Mapping:
 * - event.kind "event", category ["process"]; type ["start"] for exec and
 *   fork, ["end"] for exit; action exec / exec_failed / fork / exit; outcome
 *   "success", "failure" for exec_failed (with error.code = errno name),
 *   "unknown" for exit. event.created is when we formatted the event;
 *   event.ingested is left to the ingest pipeline. event.id is the same
 *   deterministic id as osquery's eid.
 * - process.user/group are the effective ids, real_user/real_group the real
 *   ones (ECS semantics); ids are strings (ECS keywords).
 * - process.parent is the fork-time parent (the lineage's first element).
 * - process.group_leader / process.session_leader (exec): pid from the
 *   kernel (pgid, sid), entity_id and interactive when the leader is in the
 *   lineage.
 * - process.entry_leader (exec): how the session entered the host (init,
 *   sshd, ssm, container, terminal, console or unknown in entry_meta.type),
 *   and through which process, for sshd with the client's address in
 *   entry_meta.source.ip; process.tty the controlling terminal.
 * - process.interactive, and the parent's and the leaders': whether stdin
 *   and stderr were the controlling terminal (ECS's definition), as the
 *   kernel saw it at the exec, or /proc for a process older than the daemon;
 *   absent when unknown (a record of a program older than that check).
 * - process.Ext.ancestry: the ancestors' entity ids, nearest parent first, as
 *   Elastic's endpoint ships them and Kibana's process analyzer follows them.
 * - ancestryd.ancestry: the ancestor objects, nearest first, each with pid,
 *   entity_id, executable, name, command_line, start, user.id,
 *   parent.{pid,entity_id}; at process_ancestry_detail=compact only pid,
 *   entity_id, executable, name, start and parent.pid; left out at ids.
 *   Earlier versions wrote them to process.ancestry, not an ECS field.
 * - process.executable is the file that ran, as the kernel resolved it (the
 *   interpreter of a script); ancestryd.execve_path is the name exec was
 *   given (the script), with ancestryd.interpreted and
 *   ancestryd.executable_deleted (unlinked binary, memfd).
 * - ancestryd.truncated: ["ancestry"] when an ancestor's text (in
 *   process.parent or ancestryd.ancestry, whose element then says
 *   "truncated":true) was cut to process_ancestry_field_max_bytes, "event"
 *   when the line was over event_max_bytes and was written again reduced;
 *   absent when nothing was cut.
 * - host.id is /etc/machine-id (boot-independent), host.boot.id the boot.
 */
import { execInteractive } from '../collector/decode';
import { ENTRY_TYPE_NAMES, entryLeaderIndex, ttyMajor, ttyMinor } from '../ancestry/entry-leader';
import { exeName, type ExecLineage, type ExitEventView, type ForkEventView, type ProcessView } from '../ancestry/process-view';
import { jsonString } from './json-text';
import type { AncestryDetail } from './ancestor-json';
import { execExtensionFields } from './extension-fields';
import { FieldCap } from './field-cap';
import { AncestorTextCache } from './lineage-element';
import {
  bootPrefix, errnoName, eventId, execArgv, execCmdline, execPath, StringLineFormat,
  type EventClock, type EventFormat, type FieldCaps, type HostIdentity, truncatedJson,
} from './schema';
import { isoFromEpochMs, isoFromEpochNs } from './time-text';

export const ECS_VERSION = '9.4.0';

export interface EcsFormatOptions extends FieldCaps {
  host: HostIdentity;
  clock: EventClock;
  /** process_ancestry_detail: full or compact objects in ancestryd.ancestry, or none (ids: process.Ext.ancestry has them). */
  ancestryDetail?: AncestryDetail;
  /** Epoch ms for event.created; Date.now by default (tests pin it). */
  nowMs?: () => number;
}

/** JSON array of strings. */
function stringsJson(a: readonly string[]): string {
  const n = a.length;
  if (n === 0) return '[]';
  let out = '[' + jsonString(a[0]);
  for (let i = 1; i < n; i++) out += ',' + jsonString(a[i]);
  return out + ']';
}

/**
 * process.group_leader / session_leader: the kernel's pgid / sid, with the
 * leader's entity id when the leader is the process itself or one of its
 * ancestors (a login shell, a job's first command); a pipeline's leader is a
 * sibling and keeps its pid alone. A pid in use as a pgid or sid is not
 * reused while the group lives, so the pid match is exact.
 */
function leaderEcs(field: string, pid: number, p: ProcessView, a: readonly ProcessView[]): string {
  if (pid === 0) return '';
  let v: ProcessView | null = p.pid === pid ? p : null;
  for (let i = 0; v === null && i < a.length; i++) if (a[i].pid === pid) v = a[i];
  return ',"' + field + '":{"pid":' + pid + (v === null ? '' : ',"entity_id":' + jsonString(v.entityId) + interactiveEcs(v.interactive)) + '}';
}

/**
 * process.entry_leader (exec): the nearest of the process and its lineage
 * through which its session entered the host (src/ancestry/entry-leader.ts),
 * with how it entered in entry_meta.type; absent when none of them leads a
 * session. Its text is cut like an ancestor's.
 */
function entryLeaderEcs(p: ProcessView, a: readonly ProcessView[], cap: FieldCap): string {
  const i = entryLeaderIndex(p, a);
  if (i === -2) return '';
  const v = i === -1 ? p : a[i];
  return ',"entry_leader":{"pid":' + v.pid
    + ',"entity_id":' + jsonString(v.entityId)
    + ',"executable":' + jsonString(cap.text(v.path))
    + ',"name":' + jsonString(cap.text(exeName(v)))
    + ',"start":"' + isoFromEpochNs(v.startEpochNs) + '"'
    + ',"same_as_process":' + (i === -1)
    + interactiveEcs(v.interactive)
    + ',"entry_meta":{"type":"' + ENTRY_TYPE_NAMES[v.entryKind] + '"'
    + (v.sourceIp === null ? '' : ',"source":{"ip":"' + v.sourceIp + '"}') + '}}';
}

/** `interactive`: stdin and stderr are the controlling terminal; absent when unknown. */
function interactiveEcs(v: boolean | null): string {
  return v === null ? '' : ',"interactive":' + v;
}

/** process.tty: the controlling terminal the exec record carries; absent without one. */
function ttyEcs(tty: number): string {
  return tty === 0 ? '' : ',"tty":{"char_device":{"major":' + ttyMajor(tty) + ',"minor":' + ttyMinor(tty) + '}}';
}

/** The lineage's entity ids, nearest first: process.Ext.ancestry. */
function entityIdsJson(a: readonly ProcessView[]): string {
  let out = '[';
  for (let i = 0; i < a.length; i++) out += (i === 0 ? '' : ',') + jsonString(a[i].entityId);
  return out + ']';
}

/**
 * One element of ancestryd.ancestry; compact detail leaves out command_line,
 * user and parent.entity_id. `truncated` when the cap cut a field.
 */
function ancestorEcs(v: ProcessView, full: boolean, cap: FieldCap): string {
  const path = cap.text(v.path);
  const cmdline = full ? cap.text(v.cmdline) : '';
  return '{"pid":' + v.pid
    + ',"entity_id":' + jsonString(v.entityId)
    + ',"executable":' + jsonString(path)
    + ',"name":' + jsonString(cap.text(exeName(v)))
    + (full ? ',"command_line":' + jsonString(cmdline) : '')
    + ',"start":"' + isoFromEpochNs(v.startEpochNs) + '"'
    + (full ? ',"user":{"id":"' + v.euid + '"}' : '')
    + ',"parent":{"pid":' + v.ppid + (full ? ',"entity_id":' + jsonString(v.parentEntityId ?? '') : '') + '}'
    + (cap.hit ? ',"truncated":true}' : '}');
}

/** process.parent from a full view, its text cut to `cap` (an ancestor's). */
function parentEcs(v: ProcessView, cap: FieldCap): string {
  return '"parent":{"pid":' + v.pid
    + ',"entity_id":' + jsonString(v.entityId)
    + ',"executable":' + jsonString(cap.text(v.path))
    + ',"name":' + jsonString(cap.text(exeName(v)))
    + ',"args":' + stringsJson(cap.list(v.argv))
    + ',"args_count":' + v.argv.length
    + ',"command_line":' + jsonString(cap.text(v.cmdline))
    + ',"start":"' + isoFromEpochNs(v.startEpochNs) + '"'
    + interactiveEcs(v.interactive) + '}';
}

/** process.parent when only the pid and maybe the entity id are known. */
function parentRefEcs(pid: number, entityId: string | null): string {
  return '"parent":{"pid":' + pid + (entityId === null ? '' : ',"entity_id":' + jsonString(entityId)) + '}';
}

export class EcsFormat extends StringLineFormat implements EventFormat {
  readonly name = 'ecs' as const;
  private readonly clock: EventClock;
  private readonly boot: string;
  private readonly nowMs: () => number;
  /** `,"ecs":…,"host":{…}` — constant per daemon. */
  private readonly hostPart: string;
  /** null at detail ids: no ancestryd.ancestry. */
  private readonly ancestors: AncestorTextCache<string> | null;

  constructor(opts: EcsFormatOptions) {
    super(opts);
    const detail = opts.ancestryDetail ?? 'full';
    const caps = this.caps;
    this.ancestors = detail === 'ids' ? null : new AncestorTextCache((v) => ancestorEcs(v, detail === 'full', caps.ancestor), 8192, caps.ancestor);
    this.clock = opts.clock;
    this.boot = bootPrefix(opts.clock.bootId);
    this.nowMs = opts.nowMs ?? Date.now;
    const h = opts.host;
    this.hostPart = ',"ecs":{"version":"' + ECS_VERSION + '"},"host":{"hostname":' + jsonString(h.hostname)
      + ',"name":' + jsonString(h.hostIdentifier)
      + (h.machineId === null ? '' : ',"id":' + jsonString(h.machineId))
      + ',"boot":{"id":' + jsonString(h.bootId) + '}}';
  }

  private head(ktimeNs: number, type: string, action: string, outcome: string, id: string): string {
    return '{"@timestamp":"' + isoFromEpochNs(this.clock.epochNs(BigInt(ktimeNs))) + '"'
      + this.hostPart
      + ',"event":{"kind":"event","category":["process"],"type":["' + type + '"],"action":"' + action
      + '","outcome":"' + outcome + '","created":"' + isoFromEpochMs(this.nowMs()) + '","id":"' + id + '"}';
  }

  /** The `process` fields every event type shares, without the closing brace. */
  private processCommon(p: ProcessView, path: string, argv: readonly string[], cmdline: string, tid: number, interactive: boolean | null): string {
    const own = this.caps.own;
    return ',"process":{"pid":' + p.pid
      + ',"entity_id":' + jsonString(p.entityId)
      + ',"executable":' + jsonString(own.text(path))
      + ',"name":' + jsonString(p.comm)
      + ',"args":' + stringsJson(own.list(argv))
      + ',"args_count":' + argv.length
      + ',"command_line":' + jsonString(own.text(cmdline))
      + ',"start":"' + isoFromEpochNs(p.startEpochNs) + '"'
      + interactiveEcs(interactive)
      + (p.cwd === null ? '' : ',"working_directory":' + jsonString(own.text(p.cwd)))
      + ',"thread":{"id":' + tid + '}'
      + ',"user":{"id":"' + p.euid + '"},"real_user":{"id":"' + p.uid + '"}'
      + ',"group":{"id":"' + p.egid + '"},"real_group":{"id":"' + p.gid + '"}';
  }

  exec(l: ExecLineage): string {
    const r = l.record;
    const p = l.process;
    const failed = r.kind === 'exec_failed';
    const a = l.ancestry;
    this.beginLine();
    const parent = a.length > 0 ? parentEcs(a[0], this.caps.ancestor) : parentRefEcs(p.ppid, p.parentEntityId);
    const ancestry = this.ancestors === null ? '' : '"ancestry":' + this.joinAncestors(this.ancestors, a, '[', ',', ']') + ',';
    const cut = this.endLine();
    return this.head(r.ktimeNs, 'start', r.kind, failed ? 'failure' : 'success', eventId(this.boot, r.kind, r.ktimeNs, r.tid))
      // A failed exec's record is fresher than the caller's entry.
      + this.processCommon(p, execPath(l), execArgv(l), execCmdline(l), r.tid, execInteractive(r))
      + ',' + parent
      + leaderEcs('group_leader', r.pgid, p, a) + leaderEcs('session_leader', r.sid, p, a)
      + entryLeaderEcs(p, a, this.caps.ancestor) + ttyEcs(r.tty)
      + ',"Ext":{"ancestry":' + entityIdsJson(a) + '}}'
      + (failed ? ',"error":{"code":"' + errnoName(-r.ret) + '"}' : '')
      + ',"ancestryd":{' + ancestry + execExtensionFields(l, 'entity_id', this.caps.own, cut) + '}}';
  }

  fork(f: ForkEventView): string {
    const r = f.record;
    const p = f.process;
    this.beginLine();
    const parent = f.parent !== null ? parentEcs(f.parent, this.caps.ancestor) : parentRefEcs(r.parentTgid, p.parentEntityId);
    const cut = this.endLine();
    return this.head(r.ktimeNs, 'start', 'fork', 'success', eventId(this.boot, 'fork', r.ktimeNs, r.childTgid))
      + this.processCommon(p, p.path, p.argv, p.cmdline, r.childTgid, p.interactive)
      + ',' + parent + '}'
      + ',"ancestryd":{"clone_flags":' + r.cloneFlags + ',"creator_pid":' + r.creatorTgid + truncatedJson(cut) + '}}';
  }

  exit(e: ExitEventView): string {
    const r = e.record;
    const p = e.process;
    this.beginLine();
    const cut = this.endLine();
    return this.head(r.ktimeNs, 'end', 'exit', 'unknown', eventId(this.boot, 'exit', r.ktimeNs, r.tgid))
      + this.processCommon(p, p.path, p.argv, p.cmdline, r.tgid, p.interactive)
      + ',"end":"' + isoFromEpochNs(this.clock.epochNs(BigInt(r.ktimeNs))) + '"'
      + ',"exit_code":' + r.exitCode
      + ',' + parentRefEcs(r.ppid, p.parentEntityId) + '}'
      + ',"ancestryd":{"signal":' + r.signal + ',"core_dumped":' + r.coreDumped + ',"wait_status":' + r.status
      + truncatedJson(cut) + '}}';
  }
}
