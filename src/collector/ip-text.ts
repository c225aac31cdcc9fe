/**
 * Socket addresses as text, the same from the kernel's et_peer and from
 * /proc/net/tcp.
 */

export const AF_INET = 2;
export const AF_INET6 = 10;

/**
 * 16 address bytes as text: IPv4 dotted; IPv6 in RFC 5952's form (lower
 * case, the longest run of two or more zero groups as "::"), but an
 * IPv4-mapped one (a v4 client of a v6 socket) as the IPv4 it is, the form
 * a detection compares against. Null for another family. Written here
 * because Node formats an address only from a string it parses.
 */
export function ipText(buf: Buffer, off: number, family: number): string | null {
  if (family === AF_INET) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  if (family !== AF_INET6) return null;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(off + 2 * i));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
