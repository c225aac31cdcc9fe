/**
 * Renders epoch instants as the text our formats need (osquery's asctime
 * "calendarTime", RFC 3339 with nanoseconds) without Date objects: this runs
 * several times per event, and the last second's text is reused.
 */

const WEEKDAYS = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed']; // 1970-01-01 was a Thursday
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const NS_PER_S = 1_000_000_000n;

// Reused output of civil(): no per-call array.
let cy = 0;
let cm = 0;
let cd = 0;

/** Days since 1970-01-01 → proleptic Gregorian y/m/d (H. Hinnant's civil_from_days). */
function civil(days: number): void {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  cd = doy - Math.floor((153 * mp + 2) / 5) + 1;
  cm = mp < 10 ? mp + 3 : mp - 9;
  cy = yoe + era * 400 + (cm <= 2 ? 1 : 0);
}

function two(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

function hms(secOfDay: number, sep: string): string {
  const h = Math.floor(secOfDay / 3600);
  const m = Math.floor((secOfDay % 3600) / 60);
  return two(h) + sep + two(m) + sep + two(secOfDay % 60);
}

let ascSec = NaN;
let ascText = '';

/**
 * osquery's calendarTime: asctime(3) of the UTC time plus " UTC", e.g.
 * "Thu Apr  6 22:49:54 2017 UTC" (the day is space-padded to two columns).
 */
export function asctimeUtc(epochSec: number): string {
  if (epochSec === ascSec) return ascText;
  const days = Math.floor(epochSec / 86400);
  civil(days);
  const wd = WEEKDAYS[((days % 7) + 7) % 7];
  ascText = wd + ' ' + MONTHS[cm - 1] + (cd < 10 ? '  ' : ' ') + cd + ' '
    + hms(epochSec - days * 86400, ':') + ' ' + cy + ' UTC';
  ascSec = epochSec;
  return ascText;
}

// Two slots: an event's own second and "now" (event.created) alternate.
let isoSecA = NaN;
let isoTextA = '';
let isoSecB = NaN;
let isoTextB = '';

/** "2026-11-27T10:27:20" for an epoch second; the last two are cached. */
function isoSecond(epochSec: number): string {
  if (epochSec === isoSecA) return isoTextA;
  if (epochSec === isoSecB) return isoTextB;
  const days = Math.floor(epochSec / 86400);
  civil(days);
  const text = cy + '-' + two(cm) + '-' + two(cd) + 'T' + hms(epochSec - days * 86400, ':');
  isoSecB = isoSecA;
  isoTextB = isoTextA;
  isoSecA = epochSec;
  isoTextA = text;
  return text;
}

/** RFC 3339 UTC with nanoseconds, e.g. "2026-11-27T10:27:20.000012345Z". Exact for any bigint ns. */
export function isoFromEpochNs(epochNs: bigint): string {
  let sec = epochNs / NS_PER_S;
  let frac = epochNs - sec * NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    sec -= 1n;
  }
  const f = '' + frac;
  return isoSecond(Number(sec)) + '.' + '000000000'.slice(f.length) + f + 'Z';
}

/** RFC 3339 UTC with milliseconds for an epoch ms Number (Date.now()). */
export function isoFromEpochMs(epochMs: number): string {
  const sec = Math.floor(epochMs / 1000);
  const ms = Math.floor(epochMs - sec * 1000);
  return isoSecond(sec) + '.' + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z';
}

/** Whole epoch seconds of an epoch ns bigint (floor). */
export function epochSeconds(epochNs: bigint): number {
  const s = epochNs / NS_PER_S;
  return Number(epochNs < 0n && s * NS_PER_S !== epochNs ? s - 1n : s);
}
