/**
 * CRC-32 (IEEE, zlib's): node:zlib.crc32 where this Node has it (20.15+),
 * else an 8-bit table. Same results either way; `prev` continues a CRC.
 */
import * as zlib from 'node:zlib';

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

export function crc32Table(data: Uint8Array, prev = 0): number {
  let c = ~prev;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (data: Uint8Array, prev?: number) => number = typeof native === 'function'
  ? (data, prev = 0) => native(data, prev)
  : crc32Table;
