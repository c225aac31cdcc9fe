/**
 * systemd's readiness protocol (sd_notify(3)): with Type=notify, systemd
 * holds `systemctl start` until the service says READY=1, so a daemon that
 * fails its preflight or cannot attach makes the start fail, and units
 * ordered after it start only once it collects. The message is one datagram
 * on the AF_UNIX socket named by $NOTIFY_SOCKET ("@…" is the abstract
 * namespace); without it (not under systemd) nothing is sent.
 *
 * Why by hand: Node has no AF_UNIX datagram sockets, and spawning
 * `systemd-notify` races (it may exit before systemd reads the message and
 * reads its cgroup, and then systemd drops it) and needs NotifyAccess=all.
 * koffi, already loaded for libbpf, reaches socket(2) and sendto(2); the
 * message comes from the main PID, so the unit keeps NotifyAccess=main.
 */
import koffi from 'koffi';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** sizeof(sun_path). */
const SUN_PATH_MAX = 108;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
}

let libc: Libc | null = null;

function bind(): Libc {
  if (libc !== null) return libc;
  const c = koffi.load('libc.so.6');
  libc = {
    socket: c.func('int socket(int domain, int type, int protocol)'),
    sendto: c.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    close: c.func('int close(int fd)'),
  } as unknown as Libc;
  return libc;
}

/** struct sockaddr_un for `path` and its length, or null when it cannot be one. */
export function notifyAddress(path: string): { addr: Buffer; len: number } | null {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  // Either way one byte beside the name: the abstract name's leading NUL, or a path's terminating one.
  if (name.length === 0 || name.length + 1 > SUN_PATH_MAX || (!abstract && !path.startsWith('/'))) return null;
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  // Abstract: a leading NUL, and the length counts exactly the name; a path: NUL-terminated.
  name.copy(addr, abstract ? 3 : 2);
  return { addr, len: abstract ? 3 + name.length : 2 + name.length + 1 };
}

/**
 * Sends `state` ("READY=1\nSTATUS=…") to systemd; true when sent, false when
 * there is no $NOTIFY_SOCKET. Throws only for a socket it could not use, with
 * the errno, which the caller logs: readiness is best effort beyond that.
 */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (socketPath === undefined || socketPath === '') return false;
  const target = notifyAddress(socketPath);
  if (target === null) throw new Error(`NOTIFY_SOCKET=${JSON.stringify(socketPath)} is not an AF_UNIX socket path`);
  const c = bind();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM) failed (errno ${koffi.errno()})`);
  try {
    const msg = Buffer.from(state, 'utf8');
    if (c.sendto(fd, msg, msg.length, 0, target.addr, target.len) < 0) {
      throw new Error(`sendto(${socketPath}) failed (errno ${koffi.errno()})`);
    }
  } finally {
    c.close(fd);
  }
  return true;
}
