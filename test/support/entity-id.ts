/**
 * Reads an entity id back into its parts: the inverse of
 * src/ancestry/identity.ts's EntityIds.format, written independently of it
 * so the tests and the checker that read the daemon's ids do not trust its
 * code. `<boot id, 32 lowercase hex>-<start_boottime ns>-<tgid>`.
 */
export interface ParsedEntityId {
  bootId: string;
  startNs: bigint;
  tgid: number;
}

/** Null for anything not in that exact form. */
export function parseEntityId(id: string): ParsedEntityId | null {
  const m = /^([0-9a-f]{32})-(\d{1,20})-(\d{1,10})$/.exec(id);
  if (m === null) return null;
  return { bootId: m[1], startNs: BigInt(m[2]), tgid: Number(m[3]) };
}
