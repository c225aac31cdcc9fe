/**
 * Finds an event's entity_id in its serialized JSON line, for
 * logger_kafka_key=entity_id, without parsing the line.
 *
 * The sink moves bytes (formats live in src/events) and parsing every event to read one field
 * would cost more than the rest of the send. The formats in src/events put
 * the id where two indexOf calls find it:
 *   osquery: {"name":…,"columns":{…,"entity_id":"<id>",…},"action":"added"}
 *   ECS:     {"@timestamp":…,"process":{"pid":N,"entity_id":"<id>",…},…}
 *   OCSF:    {"activity_id":…,"process":{"pid":N,"uid":"<id>",…},"actor":…}
 * The line's first byte after `{"` tells the formats apart ('n' / '@' / 'a');
 * the search starts at the object that owns the field ("columns" / "process").
 * It cannot be fooled by the text of a value: inside a JSON string every
 * quote is escaped, so `"entity_id":"` with bare quotes only occurs as a
 * key. The first such key after the anchor is the event's own: in osquery's
 * sorted columns `ancestry` (a string, so escaped) and
 * `current_parent_entity_id` (the needle starts with a quote) come before
 * it; in ECS `process.entity_id` precedes process.parent and the ancestry;
 * in OCSF the first "process" object is the event's own (metadata and device
 * come before it and hold no process; actor.process comes after).
 * Entity ids are hex, digits and dashes (src/ancestry/identity.ts): no
 * escapes to undo.
 *
 * A line in neither shape, or without the field, has no key (null): kafkajs
 * then spreads such events over partitions. The sink counts them.
 */

const COLUMNS = Buffer.from('"columns":{');
const PROCESS = Buffer.from('"process":{');
const ENTITY_ID = Buffer.from('"entity_id":"');
const UID = Buffer.from('"uid":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const N = 0x6e; // 'n' of {"name"
const A = 0x61; // 'a' of {"activity_id"
const AT = 0x40; // '@' of {"@timestamp"

/** The entity id of the event in data[start, end) as a view of `data`, or null. */
export function entityIdKey(data: Buffer, start: number, end: number): Buffer | null {
  if (end - start < 4) return null;
  const c = data[start + 2];
  const anchor = c === N ? COLUMNS : c === AT || c === A ? PROCESS : null;
  if (anchor === null) return null;
  const needle = c === A ? UID : ENTITY_ID;
  const a = data.indexOf(anchor, start);
  if (a < 0 || a >= end) return null;
  const k = data.indexOf(needle, a + anchor.length);
  if (k < 0 || k >= end) return null;
  const v = k + needle.length;
  const q = data.indexOf(QUOTE, v);
  if (q < 0 || q >= end || q === v) return null;
  // An id never needs escapes; a backslash means this is not one of ours.
  for (let i = v; i < q; i++) if (data[i] === BACKSLASH) return null;
  return data.subarray(v, q);
}
