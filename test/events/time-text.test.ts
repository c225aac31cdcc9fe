import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asctimeUtc, epochSeconds, isoFromEpochMs, isoFromEpochNs } from '../../src/events/time-text';

test('calendarTime matches osquery (asctime + " UTC", day space-padded)', () => {
  // osquery's own test vector (osquery/utils/system/tests/time.cpp).
  assert.equal(asctimeUtc(1491518994), 'Thu Apr  6 22:49:54 2017 UTC');
  assert.equal(asctimeUtc(1795775240), 'Fri Nov 27 10:27:20 2026 UTC');
  assert.equal(asctimeUtc(0), 'Thu Jan  1 00:00:00 1970 UTC');
});

test('calendarTime agrees with Date for many instants', () => {
  for (let i = 0; i < 2000; i++) {
    const sec = Math.floor(Math.random() * 4_000_000_000);
    const d = new Date(sec * 1000);
    const [wd, day, mon, year, hms] = d.toUTCString().replace(',', '').split(' ');
    const expected = `${wd} ${mon} ${String(Number(day)).padStart(2, ' ')} ${hms} ${year} UTC`;
    assert.equal(asctimeUtc(sec), expected, `sec=${sec}`);
  }
});

test('RFC 3339 text agrees with Date and keeps nanoseconds exact', () => {
  for (let i = 0; i < 2000; i++) {
    const ms = Math.floor(Math.random() * 4_000_000_000_000);
    const iso = new Date(ms).toISOString();
    assert.equal(isoFromEpochMs(ms), iso);
    const ns = BigInt(ms) * 1_000_000n + 123_456n;
    assert.equal(isoFromEpochNs(ns), iso.slice(0, 23) + '123456Z');
  }
  assert.equal(isoFromEpochNs(1_795_775_240_000_000_007n), '2026-11-27T10:27:20.000000007Z');
  assert.equal(epochSeconds(1_795_775_240_999_999_999n), 1795775240);
});
