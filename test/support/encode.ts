/**
 * Builds wire-format records byte by byte from layout.ts, the way the kernel
 * program lays them out, so decoder tests need no kernel.
 */
import { EtAncestor, EtExec, EtExit, EtFork, EtHeader, EtPeer, EtTask, Kind, Limits, type Field } from '../../src/collector/layout';

type Values = Record<string, number | bigint | string | Buffer>;

function put(buf: Buffer, base: number, field: Field, v: number | bigint | string | Buffer): void {
  const [off, size] = field;
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v);
    bytes.copy(buf, base + off, 0, Math.min(bytes.length, size));
    return;
  }
  if (size === 8) buf.writeBigUInt64LE(BigInt(v), base + off);
  else if (size === 4) buf.writeUInt32LE(Number(v) >>> 0, base + off);
  else if (size === 2) buf.writeUInt16LE(Number(v), base + off);
  else throw new Error(`no writer for ${size}-byte field`);
}

function header(buf: Buffer, kind: number, size: number, ktimeNs: bigint, version: number = Limits.ET_FORMAT_VERSION): void {
  put(buf, 0, EtHeader.fields.kind, kind);
  put(buf, 0, EtHeader.fields.version, version);
  put(buf, 0, EtHeader.fields.size, size);
  put(buf, 0, EtHeader.fields.ktime_ns, ktimeNs);
}

function fill(buf: Buffer, fields: Record<string, Field>, values: Values): void {
  for (const [k, v] of Object.entries(values)) {
    const f = fields[k];
    if (!f) throw new Error(`unknown field ${k}`);
    put(buf, 0, f, v);
  }
}

export interface ExecSpec {
  kind?: number;
  ktimeNs?: bigint;
  version?: number;
  fields?: Values;
  chain?: { tgid: number; startNs: bigint }[];
  filename?: Buffer | string;
  /** The resolved executable (exe_len), between filename and argv as the kernel lays them out. */
  exe?: string;
  argv?: Buffer | string[];
  /** struct et_peer after argv; set ET_EXEC_PEER in fields.flags to have it read. */
  peer?: { addr: Buffer; port: number; family: number; netNs: number };
  /** Override the header's size (to build inconsistent records). */
  size?: number;
}

export function encodeExec(spec: ExecSpec): Buffer {
  const chain = spec.chain ?? [];
  const filename = Buffer.isBuffer(spec.filename) ? spec.filename : Buffer.from(spec.filename ?? '');
  const argv = Buffer.isBuffer(spec.argv) ? spec.argv
    : Buffer.concat((spec.argv ?? []).map((a) => Buffer.concat([Buffer.from(a), Buffer.alloc(1)])));
  const exe = Buffer.from(spec.exe ?? '');
  const peerLen = spec.peer === undefined ? 0 : EtPeer.size;
  const size = EtExec.size + chain.length * EtAncestor.size + filename.length + exe.length + argv.length + peerLen;
  const buf = Buffer.alloc(size);
  header(buf, spec.kind ?? Kind.ET_KIND_EXEC, spec.size ?? size, spec.ktimeNs ?? 1000n, spec.version);
  fill(buf, EtExec.fields, {
    chain_len: chain.length, filename_len: filename.length, exe_len: exe.length, argv_len: argv.length, ...spec.fields,
  });
  let p = EtExec.size;
  for (const a of chain) {
    buf.writeUInt32LE(a.tgid, p + EtAncestor.fields.tgid[0]);
    buf.writeBigUInt64LE(a.startNs, p + EtAncestor.fields.start_ns[0]);
    p += EtAncestor.size;
  }
  filename.copy(buf, p);
  exe.copy(buf, p + filename.length);
  argv.copy(buf, p + filename.length + exe.length);
  if (spec.peer !== undefined) {
    const at = p + filename.length + exe.length + argv.length;
    spec.peer.addr.copy(buf, at + EtPeer.fields.addr[0]);
    buf.writeUInt16LE(spec.peer.port, at + EtPeer.fields.port[0]);
    buf.writeUInt16LE(spec.peer.family, at + EtPeer.fields.family[0]);
    buf.writeUInt32LE(spec.peer.netNs, at + EtPeer.fields.net_ns[0]);
  }
  return buf;
}

function fixed(kind: number, size: number, fields: Record<string, Field>, values: Values, ktimeNs = 1000n): Buffer {
  const buf = Buffer.alloc(size);
  header(buf, kind, size, ktimeNs);
  fill(buf, fields, values);
  return buf;
}

export const encodeFork = (v: Values, ktimeNs?: bigint) => fixed(Kind.ET_KIND_FORK, EtFork.size, EtFork.fields, v, ktimeNs);
export const encodeExit = (v: Values, ktimeNs?: bigint) => fixed(Kind.ET_KIND_EXIT, EtExit.size, EtExit.fields, v, ktimeNs);
export const encodeTask = (v: Values, ktimeNs?: bigint) => fixed(Kind.ET_KIND_TASK, EtTask.size, EtTask.fields, v, ktimeNs);
