/**
 * ancestryd's own fields of an exec line, which ECS (under `ancestryd`) and
 * OCSF (under `unmapped`) both carry, written once so that the two formats
 * keep the same names in the same order: what exec was given, how complete
 * the lineage is, what was cut, the parent now, the ancestor the walk could
 * not find, and the kernel's context (login uid, cgroup, namespaces).
 */
import type { ExecLineage } from '../ancestry/process-view';
import { argvTruncated } from '../collector/decode';
import { ExecFlags } from '../collector/layout';
import type { FieldCap } from './field-cap';
import { jsonString } from './json-text';
import { truncatedJson } from './schema';

/**
 * The fields, comma-separated, without the enclosing braces. `idKey` names
 * an entity id as the format does (ECS `entity_id`, OCSF `uid`); `own` caps
 * the event's own text; `cut` is the line's CUT_* bits; `beforeLogin` goes
 * in just before login_uid (OCSF's pgid, sid and real ids, which ECS has in
 * `process`).
 */
export function execExtensionFields(l: ExecLineage, idKey: 'entity_id' | 'uid', own: FieldCap, cut: number, beforeLogin = ''): string {
  const r = l.record;
  const p = l.process;
  const id = ',"' + idKey + '":';
  const missing = l.missingAncestor;
  return '"execve_path":' + jsonString(own.text(r.filename))
    + ',"interpreted":' + ((r.flags & ExecFlags.ET_EXEC_INTERPRETED) !== 0)
    + ',"executable_deleted":' + ((r.flags & ExecFlags.ET_EXEC_EXE_DELETED) !== 0)
    + ',"ancestry_complete":' + l.complete
    + ',"ancestry_incomplete_reason":' + (l.incompleteReason === null ? 'null' : '"' + l.incompleteReason + '"')
    + ',"argv_truncated":' + (r.kind === 'exec_failed' ? argvTruncated(r) : p.argvTruncated)
    + truncatedJson(cut)
    + ',"current_parent":{"pid":' + p.currentPpid + id + jsonString(p.currentParentEntityId ?? '') + '}'
    + (missing === null ? '' : ',"missing_ancestor":{"pid":' + missing.pid
      + id + (missing.entityId === null ? 'null' : jsonString(missing.entityId)) + '}')
    + beforeLogin
    + ',"login_uid":' + r.loginuid
    + ',"cgroup_id":"' + r.cgroupId + '","pid_ns":' + r.pidNs + ',"mnt_ns":' + r.mntNs;
}
