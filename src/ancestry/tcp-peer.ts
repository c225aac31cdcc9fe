/**
 * The far end of a process's TCP connection, from /proc: what the kernel
 * side reads into et_peer when a session leader execs, for a session that
 * started before the daemon.
 */
import { closeSync, openSync, readlinkSync, readSync } from 'node:fs';
import type { Peer } from '../collector/decode';
import { AF_INET, AF_INET6, ipText } from '../collector/ip-text';
import { Limits } from '../collector/layout';

/** The st column of /proc/net/tcp for TCP_ESTABLISHED. */
const TCP_ESTABLISHED_HEX = '01';
/** ~27 000 connections of /proc/net/tcp at 150 bytes a line. */
const TCP_TABLE_MAX_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;

/** readTcpPeer's answer; partial when something that could hold a better answer was not read. */
export interface TcpPeerRead {
  peer: Peer | null;
  /**
   * A descriptor's link below the answer's could not be read, or a table could not be read or was longer than
   * TCP_TABLE_MAX_BYTES while the answer was not the first socket.
   */
  partial: boolean;
}

/**
 * The first established TCP connection among descriptors
 * 0..ET_PEER_FDS_MAX-1 of the process at `dir` (/proc/PID), as the kernel
 * side picks it. Socket inodes come from readlink, which asks no
 * filesystem; their connections from the process's network namespace tables,
 * net/tcp and net/tcp6, which list every connection of the namespace: a
 * row past their first TCP_TABLE_MAX_BYTES is not looked at, and a
 * connection found nowhere gives a null peer. netNs is left 0 for the caller.
 */
export function readTcpPeer(dir: string): TcpPeerRead {
  const inodes: string[] = [];
  const fds: number[] = [];
  // What went unread counts only where it could hold a better answer: a lower descriptor, or a row of a table.
  let firstHiddenFd = Infinity;
  let tableMissed = false;
  for (let fd = 0; fd < Limits.ET_PEER_FDS_MAX; fd++) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/fd/${fd}`, 'latin1');
    } catch (err) {
      // Closed, or the process is gone; anything else hid a descriptor from us.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') firstHiddenFd = Math.min(firstHiddenFd, fd);
      continue;
    }
    if (target.startsWith('socket:[') && target.endsWith(']')) {
      inodes.push(target.slice(8, -1));
      fds.push(fd);
    }
  }
  if (inodes.length === 0) return { peer: null, partial: firstHiddenFd < Infinity };
  let best: Peer | null = null;
  let bestRank = inodes.length;
  for (const [file, family] of [['tcp', AF_INET], ['tcp6', AF_INET6]] as const) {
    const table = readCapped(`${dir}/net/${file}`, TCP_TABLE_MAX_BYTES);
    // No tcp6 table is a kernel without IPv6; no tcp table, a process gone.
    if (table === MISSING) continue;
    if (table === UNREADABLE || table.cut) tableMissed = true;
    if (table === UNREADABLE) continue;
    for (const line of table.text.split('\n')) {
      // "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..."
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== TCP_ESTABLISHED_HEX) continue;
      const rank = inodes.indexOf(f[9]);
      if (rank < 0 || rank >= bestRank) continue;
      const peer = remote(f[2], family);
      if (peer !== null) {
        best = peer;
        bestRank = rank;
      }
    }
  }
  const bestFd = best === null ? Infinity : fds[bestRank];
  return { peer: best, partial: firstHiddenFd < bestFd || (tableMissed && bestRank > 0) };
}

/**
 * rem_address of /proc/net/tcp{,6} ("0100007F:1F90"): the address as 32-bit
 * words, each printed as the host reads it (little-endian on every target
 * we build), so each word's bytes come out reversed; the port in hex.
 */
function remote(col: string, family: number): Peer | null {
  const colon = col.indexOf(':');
  const hex = colon < 0 ? '' : col.slice(0, colon);
  const port = colon < 0 ? NaN : parseInt(col.slice(colon + 1), 16);
  const words = family === AF_INET ? 1 : 4;
  if (hex.length !== words * 8 || !/^[0-9A-Fa-f]+$/.test(hex) || !(port >= 0 && port <= 0xffff)) return null;
  const bytes = Buffer.alloc(16);
  for (let w = 0; w < words; w++) bytes.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  const ip = ipText(bytes, 0, family);
  return ip === null ? null : { ip, port, netNs: 0 };
}

const MISSING = 'missing';
const UNREADABLE = 'unreadable';

/**
 * The whole lines within the first `max` bytes of a file, as latin1 text
 * (a cut last line is dropped; cut says whether the file went on); MISSING
 * when it does not exist, UNREADABLE when it cannot be read.
 */
function readCapped(path: string, max: number): { text: string; cut: boolean } | typeof MISSING | typeof UNREADABLE {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? MISSING : UNREADABLE;
  }
  try {
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, max));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n >= max) {
          // Exactly full is not cut: one more byte tells.
          if (readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) === 0) return { text: buf.toString('latin1', 0, n), cut: false };
          break;
        }
        const next = Buffer.allocUnsafe(Math.min(max, n * 2));
        buf.copy(next, 0, 0, n);
        buf = next;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) return { text: buf.toString('latin1', 0, n), cut: false };
      n += got;
    }
    const lastNewline = buf.lastIndexOf(0x0a, n - 1);
    return { text: buf.toString('latin1', 0, lastNewline < 0 ? 0 : lastNewline + 1), cut: true };
  } catch {
    return UNREADABLE;
  } finally {
    closeSync(fd);
  }
}
