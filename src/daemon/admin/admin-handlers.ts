/**
 * Answers the admin API (admin-protocol.ts) from the running pipeline:
 * a pid's lineage now, the live tree, recent events and the stats.
 */
import { exeName, type ProcessView } from '../../ancestry';
import { AdminRequestError, type LineageElement, type TreeNode } from './admin-protocol';
import { AdminHandlers } from './admin-socket';
import type { Metrics } from '../metrics/metrics';
import type { Pipeline } from '../pipeline';

export function registerAdminHandlers(handlers: AdminHandlers, pipeline: Pipeline, metrics: Metrics): void {
  handlers.register('ancestry', ({ pid }) => {
    const l = pipeline.table.liveLineage(pid);
    if (l === null) throw new AdminRequestError('not_found', `pid ${pid} is not a live process in the process table`);
    return {
      pid,
      entity_id: l.process.entityId,
      process: element(l.process),
      ancestry: l.ancestry.map(element),
      complete: l.complete,
      incomplete_reason: l.incompleteReason,
      current_parent: l.currentParent ? element(l.currentParent) : null,
    };
  });

  handlers.register('tree', ({ pid }) => {
    const root = pid ?? 1;
    const byPid = new Map<number, ProcessView>();
    const children = new Map<number, number[]>();
    for (const v of pipeline.table.liveProcesses()) {
      byPid.set(v.pid, v);
      const list = children.get(v.currentPpid);
      if (list) list.push(v.pid);
      else children.set(v.currentPpid, [v.pid]);
    }
    if (!byPid.has(root)) throw new AdminRequestError('not_found', `pid ${root} is not a live process in the process table`);
    // Iterative, so a deep tree cannot overflow the stack.
    const build = (top: number): TreeNode => {
      const nodeOf = (p: number): TreeNode => {
        const v = byPid.get(p)!;
        return { pid: p, entity_id: v.entityId, comm: v.comm, path: v.path, children: [] };
      };
      const rootNode = nodeOf(top);
      const stack: TreeNode[] = [rootNode];
      const seen = new Set<number>([top]);
      while (stack.length > 0) {
        const n = stack.pop()!;
        for (const c of (children.get(n.pid) ?? []).sort((a, b) => a - b)) {
          if (seen.has(c) || !byPid.has(c)) continue;
          seen.add(c);
          const child = nodeOf(c);
          n.children.push(child);
          stack.push(child);
        }
      }
      return rootNode;
    };
    return build(root);
  });

  handlers.register('events', ({ pid, limit }) => pipeline.recent.query(pid, limit).map((line) => JSON.parse(line) as Record<string, unknown>));

  handlers.register('stats', () => ({ ...metrics.snapshot(), outputs: pipeline.outputStats(), ancestry: pipeline.table.stats }));
}

function element(v: ProcessView): LineageElement {
  const hr = v.startEpochNs.toString();
  return {
    exe_name: exeName(v),
    pid: v.pid,
    ppid: v.ppid,
    path: v.path,
    cmdline: v.cmdline,
    proc_time: Number(hr.length > 9 ? hr.slice(0, -9) : '0'),
    proc_time_hr: hr,
    entity_id: v.entityId,
    uid: v.uid,
    start_boottime: v.startBoottimeNs.toString(),
    exited: v.exitBootNs !== null,
  };
}
