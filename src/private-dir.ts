/**
 * Directories the daemon writes as root (results logs, spools, the pidfile's
 * and the admin socket's): created 0700 when missing, and refused when
 * another user could plant a file or symlink in them. Files in them are
 * opened with O_NOFOLLOW: a symlink where a log or segment should be is an
 * error, never followed (root would otherwise append to, truncate or chmod
 * whatever it points to).
 */
import { chmodSync, constants, lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { AncestrydError, errCode } from './errors';

/** Flags every file the daemon writes is opened with, on top of its own (libuv adds O_CLOEXEC to every open). */
export const O_PRIVATE = constants.O_NOFOLLOW;

/** Permission bits as chmod and stat show them ("0644", "1777"): every message about a mode uses it. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The rule for a directory or file root writes or trusts: owned by `uid`, not writable by group or others. */
export function othersMayWrite(st: Stats, uid: number): boolean {
  return st.uid !== uid || (st.mode & 0o022) !== 0;
}

/**
 * Why a file root trusts is unsafe, as phrases naming `what` (empty: safe):
 * owned by another user than `uid` or root, or writable by group or others — or,
 * for a `secret`, readable by them (root-owned 0600 or 0400). `withDir`
 * holds the file's directory to the same rule, since whoever may write the
 * directory may replace the file. A missing file has no problems here: the
 * option that reads it reports that.
 */
export function trustProblems(what: string, path: string, uid: number, secret: boolean, withDir = false): string[] {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return [];
  }
  const out: string[] = [];
  // root's files are trusted by every user: root could change anything anyway.
  if (st.uid !== uid && st.uid !== 0) out.push(`${what} ${path} is owned by uid ${st.uid}, not ${uid}`);
  if (secret ? (st.mode & 0o077) !== 0 : (st.mode & 0o022) !== 0) {
    out.push(`${what} ${path} has mode ${formatMode(st.mode)}${secret ? ': group or others may read it' : ': group or others may write it'}`);
  }
  if (withDir) {
    const dir = dirname(path);
    try {
      const d = statSync(dir);
      // root's directories are trusted like its files; in a sticky one (/tmp) others may create
      // files but not replace ours, unless they own the directory.
      const ours = d.uid === uid || d.uid === 0;
      const stickySafe = (d.mode & 0o1000) !== 0 && ours;
      if ((!ours || (d.mode & 0o022) !== 0) && !stickySafe) {
        out.push(`${what}'s directory ${dir} (owner uid ${d.uid}, mode ${formatMode(d.mode)}) may be written by another user`);
      }
    } catch {
      // the file's own stat succeeded: an unreadable directory cannot be written by us either
    }
  }
  return out;
}

/**
 * The config file and the BPF object decide what root loads into the
 * kernel: trusted only when neither they nor their directory may be written
 * by another user. The loader refuses to start on these problems and
 * `ancestryd check --compliance` fails on them: one rule for both.
 */
export function rootLoadsProblems(what: string, path: string, uid: number): string[] {
  return trustProblems(what, path, uid, false, true);
}

/**
 * Creates `dir` (0700) or checks the existing one: a real directory (not a
 * symlink), owned by this process's user, and not writable by group or
 * others. `option` names the setting in the error.
 */
export function preparePrivateDir(dir: string, option: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errCode(err) !== 'ENOENT') {
      throw new AncestrydError('ANC_CONFIG_INVALID', `${option}: cannot use ${dir} (${errCode(err)})`
        + (errCode(err) === 'ENOTDIR' ? ': a part of the path is a file, not a directory' : ''), { cause: err });
    }
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    } catch (e) {
      throw new AncestrydError('ANC_CONFIG_INVALID',
        `${option}: cannot create directory ${dir} (${errCode(e)}): run as root, or choose a directory you own`, { cause: e });
    }
    return;
  }
  if (!st.isDirectory()) {
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `${option}: ${dir} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}: point ${option} at a real directory`);
  }
  const euid = process.geteuid?.() ?? 0;
  if (othersMayWrite(st, euid)) {
    throw new AncestrydError('ANC_CONFIG_INVALID',
      `${option}: directory ${dir} (owner uid ${st.uid}, mode ${formatMode(st.mode)}) may be written by another user: `
      + `use a directory owned by uid ${euid} that group and others cannot write (e.g. chown ${euid} ${dir}; chmod go-w ${dir})`);
  }
}
