import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ENTRY_CONSOLE, ENTRY_CONTAINER, ENTRY_INIT, ENTRY_NONE, ENTRY_SSHD, ENTRY_SSM, ENTRY_TERMINAL, ENTRY_TYPE_NAMES,
  ENTRY_UNKNOWN, entryKind, entryLeaderIndex, ttyMajor, ttyMinor,
} from '../../src/ancestry/entry-leader';
import type { ProcessView } from '../../src/ancestry/process-view';

const dev = (major: number, minor: number) => ((major << 20) | minor) >>> 0;
const PTS0 = dev(136, 0);
const TTY1 = dev(4, 1);
const TTYS0 = dev(4, 64);

describe('entryKind', () => {
  const cases: [string, Parameters<typeof entryKind>, number][] = [
    ['not a session leader', [500, 400, PTS0, 400, 'bash', 'sshd'], ENTRY_NONE],
    ['init leads its session but is no entry', [1, 1, 0, 0, 'systemd', null], ENTRY_NONE],
    ['a kernel thread has session 0', [2, 0, 0, 0, 'kthreadd', null], ENTRY_NONE],
    ['a serial terminal, lowest minor', [500, 500, TTYS0, 400, 'agetty', 'systemd'], ENTRY_TERMINAL],
    ['a serial terminal, highest minor', [500, 500, dev(4, 255), 400, 'bash', 'login'], ENTRY_TERMINAL],
    ['major 4 past 255 is no tty', [500, 500, dev(4, 256), 400, 'bash', 'x'], ENTRY_UNKNOWN],
    ['login on a virtual console', [500, 500, TTY1, 1, 'login', 'systemd'], ENTRY_CONSOLE],
    ['console, highest minor', [500, 500, dev(4, 63), 1, 'login', 'systemd'], ENTRY_CONSOLE],
    ['a shell on a virtual console under login is not the console entry', [501, 501, TTY1, 500, 'bash', 'login'], ENTRY_UNKNOWN],
    ['a service init started', [500, 500, 0, 1, 'cron', 'systemd'], ENTRY_INIT],
    ['init rule before the parent rules', [500, 500, 0, 1, 'bash', 'sshd'], ENTRY_INIT],
    ['sshd\'s session child', [500, 500, PTS0, 400, 'bash', 'sshd'], ENTRY_SSHD],
    ['sshd without a terminal (ssh host cmd)', [500, 500, 0, 400, 'sh', 'sshd'], ENTRY_SSHD],
    ['OpenSSH 9.8+ sshd-session', [500, 500, PTS0, 400, 'bash', 'sshd-session'], ENTRY_SSHD],
    ['sshd under sshd is sshd\'s own business', [500, 500, 0, 400, 'sshd', 'sshd'], ENTRY_UNKNOWN],
    ['sshd-session under sshd', [500, 500, 0, 400, 'sshd-session', 'sshd'], ENTRY_UNKNOWN],
    ['an SSM shell on a pty', [500, 500, PTS0, 400, 'sh', 'ssm-session-worker'], ENTRY_SSM],
    ['an SSM shell, last pts major', [500, 500, dev(143, 9), 400, 'sh', 'ssm-session-worker'], ENTRY_SSM],
    ['SSM without a pty is not an SSM session', [500, 500, 0, 400, 'sh', 'ssm-session-worker'], ENTRY_UNKNOWN],
    ['a container\'s first process under the shim', [500, 500, 0, 400, 'nginx', 'containerd-shim-runc-v2'], ENTRY_CONTAINER],
    ['under runc', [500, 500, 0, 400, 'sh', 'runc'], ENTRY_CONTAINER],
    ['under crun', [500, 500, 0, 400, 'sh', 'crun'], ENTRY_CONTAINER],
    ['under conmon', [500, 500, 0, 400, 'sh', 'conmon'], ENTRY_CONTAINER],
    ['runc init under the shim is the runtime\'s', [500, 500, 0, 400, 'runc', 'containerd-shim-runc-v2'], ENTRY_UNKNOWN],
    ['a parent not known', [500, 500, PTS0, 400, 'bash', null], ENTRY_UNKNOWN],
    ['tmux\'s pane shell', [500, 500, PTS0, 400, 'bash', 'tmux'], ENTRY_UNKNOWN],
  ];
  for (const [name, args, want] of cases) {
    it(`${name}: ${ENTRY_TYPE_NAMES[want] || 'none'}`, () => assert.equal(entryKind(...args), want));
  }

  it('every kind has a name and fits the three bits the table keeps', () => {
    assert.equal(ENTRY_TYPE_NAMES.length, 8);
    for (let k = ENTRY_INIT; k <= ENTRY_UNKNOWN; k++) assert.match(ENTRY_TYPE_NAMES[k], /^[a-z]+$/);
  });

  it('splits a dev_t into major and minor over their whole range', () => {
    assert.deepEqual([ttyMajor(PTS0), ttyMinor(PTS0)], [136, 0]);
    const widest = dev(0xfff, 0xfffff);
    assert.deepEqual([ttyMajor(widest), ttyMinor(widest)], [0xfff, 0xfffff]);
  });
});

describe('entryLeaderIndex', () => {
  const v = (entryKind: number) => ({ entryKind }) as ProcessView;

  it('the process itself when it has a known kind', () => {
    assert.equal(entryLeaderIndex(v(ENTRY_SSHD), [v(ENTRY_INIT)]), -1);
  });

  it('else the nearest ancestor with a known kind, past unknown leaders (a tmux pane under an ssh login)', () => {
    assert.equal(entryLeaderIndex(v(ENTRY_UNKNOWN), [v(ENTRY_NONE), v(ENTRY_UNKNOWN), v(ENTRY_SSHD), v(ENTRY_INIT)]), 2);
  });

  it('else the oldest session leader, of unknown kind', () => {
    assert.equal(entryLeaderIndex(v(ENTRY_NONE), [v(ENTRY_UNKNOWN), v(ENTRY_NONE), v(ENTRY_UNKNOWN), v(ENTRY_NONE)]), 2);
    assert.equal(entryLeaderIndex(v(ENTRY_UNKNOWN), [v(ENTRY_NONE)]), -1);
  });

  it('none when nothing in the lineage leads a session', () => {
    assert.equal(entryLeaderIndex(v(ENTRY_NONE), [v(ENTRY_NONE), v(ENTRY_NONE)]), -2);
    assert.equal(entryLeaderIndex(v(ENTRY_NONE), []), -2);
  });
});
