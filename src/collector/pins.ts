/**
 * The pinned sets on bpffs: how they are named, found, opened and removed.
 * One directory per set of programs, links and maps, named by wire version
 * and a digest of what made it, so that a daemon that starts again finds the
 * programs still attached and the ring still filling, and takes them over
 * (src/collector/load.ts decides when).
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
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AncestrydError } from '../errors';
import { EtConsumer, Limits } from './layout';
import { describeErrno, LOCK_EX, LOCK_NB, type Native } from './libbpf';
import type { ProgramSettings } from './load';

export const PIN_ROOT_DEFAULT = '/sys/fs/bpf/ancestryd';
export const PIN_ITER = 'et_task_iter';
export const LINK_PREFIX = 'link_';
const STAGING_PREFIX = 'staging_';
const EWOULDBLOCK = 11;
const SET_NAME = /^w(\d+)-([0-9a-f]{16})(?:-replaced-\d+)?$/;
/** bpffs refuses names with a dot (reserved for its own files, maps.debug): none here has one. */
/** statfs(2) f_type of bpffs (BPF_FS_MAGIC). */
const BPF_FS_MAGIC = 0xcafe4a11;

/** What decides whether a pinned set can be adopted: the settings that made its programs. */
export type PinIdentity = ProgramSettings;

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

/** The names under root, sorted; none when it does not exist yet. */
function namesUnder(root: string): string[] {
  try {
    return readdirSync(root).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every set under root (staging directories and other names excluded). */
export function listPinnedSets(root: string): PinnedSet[] {
  const out: PinnedSet[] = [];
  for (const name of namesUnder(root)) {
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

function requireBpffs(root: string): void {
  const problem = bpffsProblem(root);
  if (problem !== null) throw new AncestrydError('ANC_BPF_PIN', `bpf_pin_path ${root}: ${problem}`);
}

/**
 * Create root (0700) and lock it for this daemon's lifetime (close the
 * returned fd to let go): two daemons with one pin root, whatever their
 * pidfiles, would otherwise adopt one set and drain one ring together.
 * Under the lock, staging directories are a killed start's: removed.
 */
export function lockPinRoot(n: Native, root: string): number {
  requireBpffs(root);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const fd = openSync(root, 'r');
  if (n.c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const e = n.errno();
    closeSync(fd);
    if (e === EWOULDBLOCK) throw new AncestrydError('ANC_ALREADY_RUNNING', `another ancestryd uses bpf_pin_path ${root}: stop it first`);
    throw new AncestrydError('ANC_BPF_PIN', `locking bpf_pin_path ${root} failed: ${describeErrno(n, e)}`);
  }
  for (const name of readdirSync(root)) {
    if (name.startsWith(STAGING_PREFIX)) rmSync(join(root, name), { recursive: true, force: true });
  }
  return fd;
}

/** A name for a set of this build that must be replaced (it lost a link), unique under root. */
export function replacedName(dir: string): string {
  for (let i = 1; ; i++) if (!existsSync(`${dir}-replaced-${i}`)) return `${dir}-replaced-${i}`;
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

/**
 * `ancestryd unpin`: remove every set under root (and root, once empty).
 * Returns the directories removed. Refused while a daemon holds the root's lock.
 */
export function unpinAll(n: Native, root: string): string[] {
  requireBpffs(root);
  if (!existsSync(root)) return [];
  const lock = lockPinRoot(n, root);
  try {
    return removeAllSets(root);
  } finally {
    closeSync(lock);
  }
}

function removeAllSets(root: string): string[] {
  const removed: string[] = [];
  for (const name of namesUnder(root)) {
    if (!SET_NAME.test(name) && !name.startsWith(STAGING_PREFIX)) continue;
    removeSet(join(root, name));
    removed.push(join(root, name));
  }
  if (existsSync(root) && readdirSync(root).length === 0) rmSync(root, { recursive: true });
  return removed;
}

/** The maps (and, to adopt, the iterator) of a pinned set, opened; fds holds every fd to close. */
export interface OpenedSet {
  /** et_consumer's value size: an older build's may be smaller. */
  consumerValueSize: number;
  ringFd: number;
  ringBytes: number;
  consumerFd: number;
  countersFd: number;
  /** -1 unless opened withIter. */
  iterFd: number;
  fds: number[];
}

/**
 * Open a set's pinned objects. Refused (ANC_ALREADY_RUNNING) while the
 * daemon named in its et_consumer runs: one daemon drains a set at a time
 * (the pidfile guards one configuration; this, daemons with different
 * pidfiles and one pin root).
 */
export function openSet(n: Native, dir: string, withIter: boolean): OpenedSet {
  const fds: number[] = [];
  try {
    const get = (file: string): number => {
      const fd = n.bpf.bpf_obj_get(join(dir, file));
      if (fd < 0) throw new AncestrydError('ANC_BPF_PIN', `opening the pinned ${join(dir, file)} failed: ${describeErrno(n, fd)}`);
      fds.push(fd);
      return fd;
    };
    const consumerFd = get('et_consumer');
    refuseLiveConsumer(n, consumerFd, dir);
    const ringFd = get('et_ring');
    return {
      consumerValueSize: mapInfo(n, consumerFd).valueSize,
      ringFd, ringBytes: mapInfo(n, ringFd).maxEntries, consumerFd, countersFd: get('et_counters'),
      iterFd: withIter ? get(PIN_ITER) : -1, fds,
    };
  } catch (err) {
    for (const fd of fds) n.c.close(fd);
    throw err;
  }
}

function refuseLiveConsumer(n: Native, consumerFd: number, dir: string): void {
  const info = mapInfo(n, consumerFd);
  if (info.valueSize < EtConsumer.size) return;
  const value = Buffer.alloc(info.valueSize);
  if (n.bpf.bpf_map_lookup_elem(consumerFd, Buffer.alloc(4), value) < 0) return;
  const tgid = value.readUInt32LE(EtConsumer.fields.self_tgid[0]);
  const startNs = value.readBigUInt64LE(EtConsumer.fields.self_start_ns[0]);
  if (tgid === 0 || tgid === process.pid || !processAlive(tgid, startNs)) return;
  throw new AncestrydError('ANC_ALREADY_RUNNING', `another ancestryd (pid ${tgid}) drains the pinned set ${dir}; stop it first`);
}

/** Whether tgid is still the process that started at startNs (CLOCK_BOOTTIME), to /proc's tick resolution. */
function processAlive(tgid: number, startNs: bigint): boolean {
  try {
    const stat = readFileSync(`/proc/${tgid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped) drains nothing.
    return fields[0] !== 'Z' && fields[0] !== 'X' && BigInt(fields[19]) === startNs / 10_000_000n;
  } catch {
    return false;
  }
}

/** struct bpf_map_info: type, id, key_size, value_size, max_entries, … */
function mapInfo(n: Native, fd: number): { valueSize: number; maxEntries: number } {
  const info = Buffer.alloc(128);
  const rc = n.bpf.bpf_obj_get_info_by_fd(fd, info, [info.length]);
  if (rc < 0) throw new AncestrydError('ANC_BPF_PIN', `reading a pinned map's info failed: ${describeErrno(n, rc)}`);
  return { valueSize: info.readUInt32LE(12), maxEntries: info.readUInt32LE(16) };
}
