/**
 * The pinned kernel side on bpffs: one directory per set of programs, links
 * and maps, named by wire version and a digest of what made it, so that a
 * daemon that starts again finds the programs still attached and the ring
 * still filling, and takes them over (src/collector/load.ts).
 *
 *   <root>/w<wire version>-<digest>/
 *     et_ring, et_consumer, et_counters   the maps the daemon reads
 *     et_task_iter                        the snapshot program
 *     link_<program>                      one per attached program
 *
 * The digest covers the object file and every load-time setting (depth,
 * argv bytes, wakeup bytes, ring size, failed execs, extra programs): only a
 * set made exactly as this daemon would make it is adopted; any other is an
 * older build or other settings, drained and replaced (an upgrade).
 *
 * A set is built in a staging directory and renamed into place, so a set
 * under its final name is always complete; a staging directory left by a
 * daemon killed while building one is removed at the next start.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AncestrydError } from '../errors';
import { Limits } from './layout';

export const PIN_ROOT_DEFAULT = '/sys/fs/bpf/ancestryd';
export const PIN_MAPS = ['et_ring', 'et_consumer', 'et_counters'] as const;
export const PIN_ITER = 'et_task_iter';
export const LINK_PREFIX = 'link_';
const STAGING_PREFIX = 'staging_';
const SET_NAME = /^w(\d+)-([0-9a-f]{16})(?:-replaced)?$/;
/** bpffs refuses names with a dot (reserved for its own files, maps.debug): none here has one. */
/** statfs(2) f_type of bpffs (BPF_FS_MAGIC). */
const BPF_FS_MAGIC = 0xcafe4a11;

/** What decides whether a pinned set can be adopted. */
export interface PinIdentity {
  objectPath: string;
  chainDepth: number;
  argvMaxBytes: number;
  wakeupBytes: number;
  ringBytes: number;
  execFailed: boolean;
  extraPrograms?: readonly string[];
}

export interface PinnedSet {
  name: string;
  dir: string;
  /** From the name; null for a directory that is not a set (left alone). */
  wireVersion: number | null;
}

/** The directory name of the set this daemon would make. */
export function pinSetName(id: PinIdentity): string {
  const h = createHash('sha256');
  h.update(readFileSync(id.objectPath));
  h.update(JSON.stringify([id.chainDepth, id.argvMaxBytes, id.wakeupBytes, id.ringBytes, id.execFailed,
    [...(id.extraPrograms ?? [])].sort()]));
  return `w${Limits.ET_FORMAT_VERSION}-${h.digest('hex').slice(0, 16)}`;
}

/** Every set under root (staging directories and other names excluded). */
export function listPinnedSets(root: string): PinnedSet[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: PinnedSet[] = [];
  for (const name of names.sort()) {
    const m = SET_NAME.exec(name);
    if (m !== null) out.push({ name, dir: join(root, name), wireVersion: Number(m[1]) });
  }
  return out;
}

/**
 * Why pins cannot live under root, or null: it (or the nearest directory
 * that exists above it) must be on a bpffs mount.
 */
export function bpffsProblem(root: string): string | null {
  let dir = root;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const type = statfsSync(dir).type;
    if (type === BPF_FS_MAGIC) return null;
    return `${dir} is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf, as systemd does at boot)`;
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
}

/** Create root (0700) and remove the staging directories of daemons killed while pinning. */
export function preparePinRoot(root: string): void {
  const problem = bpffsProblem(root);
  if (problem !== null) throw new AncestrydError('ANC_BPF_PIN', `bpf_pin_path ${root}: ${problem}`);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(root)) {
    if (name.startsWith(STAGING_PREFIX)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

/** A fresh staging directory for a set that is being built. */
export function stagingDir(root: string): string {
  const dir = join(root, `${STAGING_PREFIX}${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** Publish a complete set under its final name. */
export function publishSet(staging: string, dir: string): void {
  renameSync(staging, dir);
}

/** Names of the links a set holds (the programs it keeps attached). */
export function linkNames(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(LINK_PREFIX)).map((f) => f.slice(LINK_PREFIX.length)).sort();
}

/**
 * Detach a set's programs: removing a link's last reference (its pin) detaches
 * it. The maps stay until removeSet, so the ring can still be drained.
 */
export function unpinLinks(dir: string): void {
  for (const name of linkNames(dir)) rmSync(join(dir, LINK_PREFIX + name), { force: true });
}

/** Remove a whole set: programs detach, maps are freed once no daemon holds them. */
export function removeSet(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** `ancestryd unpin`: remove every set under root (and root, once empty). Returns the directories removed. */
export function unpinAll(root: string): string[] {
  const problem = bpffsProblem(root);
  if (problem !== null) throw new AncestrydError('ANC_BPF_PIN', `bpf_pin_path ${root}: ${problem}`);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names.sort()) {
    if (!SET_NAME.test(name) && !name.startsWith(STAGING_PREFIX)) continue;
    removeSet(join(root, name));
    removed.push(join(root, name));
  }
  if (readdirSync(root).length === 0) rmSync(root, { recursive: true });
  return removed;
}
