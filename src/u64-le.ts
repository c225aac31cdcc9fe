/**
 * Little-endian u64 fields. The kernel's records (bpf/exec_trace.h) and the
 * spool's (sinks/spool/) both carry them and both are read per event, so
 * one copy serves both: two u32 halves joined by one multiply, exact below
 * 2^53 (ids, and boot-time ns for the first ~104 days of uptime) with no
 * BigInt on the way.
 */

/** Exact while the value is below 2^53; the caller's field must stay there (ids, ktimes). */
export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 4) * 0x100000000 + buf.readUInt32LE(off);
}

/** `n`: an integer in [0, 2^53). */
export function writeU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n % 0x100000000, off);
  buf.writeUInt32LE(Math.floor(n / 0x100000000), off + 4);
}

/**
 * A u64 as a bigint, exact over the whole range. Values below 2^53 (start
 * times for the first 104 days of uptime) go through one exact Number,
 * which is several times cheaper than readBigUInt64LE's BigInt arithmetic.
 */
export function readU64BigInt(buf: Buffer, off: number): bigint {
  const hi = buf.readUInt32LE(off + 4);
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + buf.readUInt32LE(off));
  return buf.readBigUInt64LE(off);
}
