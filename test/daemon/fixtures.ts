/** Admin API responses shared by the render and CLI tests. */
import type { AncestryResponse, LineageElement, TreeNode } from '../../src/daemon/admin/admin-protocol';

export function el(pid: number, ppid: number, exe: string, cmdline: string, extra: Partial<LineageElement> = {}): LineageElement {
  return {
    exe_name: exe, pid, ppid, path: `/usr/bin/${exe}`, cmdline, proc_time: 1795776000 + pid, proc_time_hr: `${1795776000 + pid}000000000`,
    entity_id: `e${pid}`, uid: pid === 1 ? 0 : 1000, start_boottime: String(pid * 1000), ...extra,
  };
}

export const ANCESTRY_FIXTURE: AncestryResponse = {
  pid: 4242, entity_id: 'e4242', complete: false, incomplete_reason: 'depth_cap',
  process: el(4242, 4000, 'curl', 'curl -s https://example.com'),
  ancestry: [el(4000, 1, 'bash', 'bash -l', { exited: true }), el(1, 0, 'systemd', '/sbin/init')],
  current_parent: el(1, 0, 'systemd', '/sbin/init'),
};

export const TREE_FIXTURE: TreeNode = {
  pid: 1, entity_id: 'e1', comm: 'systemd', path: '/usr/lib/systemd/systemd', children: [
    { pid: 500, entity_id: 'e500', comm: 'sshd', path: '/usr/sbin/sshd', children: [
      { pid: 900, entity_id: 'e900', comm: 'bash', path: '/usr/bin/bash', children: [] },
      { pid: 901, entity_id: 'e901', comm: 'kworker', path: '', children: [] },
    ] },
    { pid: 600, entity_id: 'e600', comm: 'cron', path: '/usr/sbin/cron', children: [] },
  ],
};
