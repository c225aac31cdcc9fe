/**
 * Issue 10 item 2, the size budget: what a process controls (argv, paths,
 * cwd) cannot make an event line too large to deliver. Ancestors' fields
 * are cut to process_ancestry_field_max_bytes; the reduced format (every
 * field cut, ancestry as entity ids) fits event_max_bytes whatever the
 * event holds. Every cut is flagged.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ExecLineage, ProcessView } from '../../src/ancestry/process-view';
import { createFormat, CUT_ANCESTRY, CUT_EVENT, FieldCap, LineBuffer, type EventFormat, type FormatName } from '../../src/events';
import type { AncestryDetail } from '../../src/events/ancestor-json';
import { reducedFieldMaxBytes } from '../../src/daemon/pipeline';
import { checkEcs } from '../support/ecs-reference';
import { checkOcsf } from '../support/ocsf-reference';
import { clock, host, makeExecRecord, makeExitEvent, makeForkEvent, makeLineage, makeView } from './lineage-fixture';

const MIB = 1024 * 1024;
/** Control bytes escape to \u00XX: the worst JSON expansion, ×7 inside osquery's ancestry column. */
function hostile(bytes: number, seed: string): string {
  let s = seed;
  while (s.length < bytes) s += '\u0001\u001b[2J\r\u0007';
  return s.slice(0, bytes);
}

/** An exec `depth` levels deep where every process's argv, path and cwd carry `bytes` of hostile text. */
function hostileLineage(depth: number, bytes: number, argvBytes = bytes): ExecLineage {
  const base = makeLineage(depth);
  const spoil = (v: ProcessView, tag: string): ProcessView => {
    const argv = [hostile(argvBytes / 2, `/bin/${tag}`), hostile(argvBytes / 2 - 1, '-x')];
    return { ...v, path: hostile(bytes, `/opt/${tag}/`), argv, cmdline: argv.join(' '), cwd: hostile(bytes, '/home/') };
  };
  const ancestry = base.ancestry.map((v, i) => spoil(v, `a${i}`));
  const process = spoil(base.process, 'self');
  return { ...base, process, ancestry, record: makeExecRecord(process, base.record.ktimeNs, { filename: hostile(bytes, '/tmp/x') }) };
}

function line(format: EventFormat, l: ExecLineage): string {
  const out = new LineBuffer();
  format.writeExec(l, out);
  out.end(0);
  return out.text(0);
}

const FORMATS: readonly FormatName[] = ['osquery', 'ecs', 'ocsf'];

function make(name: FormatName, over: { ancestorFieldMaxBytes?: number; fieldMaxBytes?: number; ancestryDetail?: AncestryDetail } = {}): EventFormat {
  return createFormat(name, { host, clock, productVersion: 'test', ...over });
}

/** The line's own record of what was cut, in each format's words. */
function flags(name: FormatName, doc: Record<string, any>): string[] {
  if (name === 'osquery') return doc.columns.overflows === '' ? [] : doc.columns.overflows.split(',');
  if (name === 'ecs') return doc.ancestryd.truncated ?? [];
  assert.equal(doc.metadata.is_truncated, doc.unmapped.truncated === undefined ? undefined : true, 'OCSF: is_truncated iff something was cut');
  return doc.unmapped.truncated ?? [];
}

function schemaProblems(name: FormatName, doc: unknown): string[] {
  return name === 'ecs' ? checkEcs(doc).problems : name === 'ocsf' ? checkOcsf(doc) : [];
}

describe('FieldCap', () => {
  it('keeps text that fits, untouched and unflagged', () => {
    const cap = new FieldCap(8);
    assert.equal(cap.text('12345678'), '12345678');
    assert.equal(cap.text('ééé'), 'ééé'); // 6 bytes
    assert.equal(cap.hit, false);
  });

  it('cuts at a character boundary by UTF-8 bytes, never half a surrogate pair, and flags it', () => {
    const cap = new FieldCap(8);
    assert.equal(cap.text('123456789'), '12345678');
    assert.equal(cap.hit, true);
    assert.equal(new FieldCap(8).text('éééé€'), 'éééé'); // é 2 bytes, € 3
    assert.equal(new FieldCap(5).text('ab😀cd'), 'ab'); // the emoji is 4 bytes, 2 UTF-16 units
    assert.equal(new FieldCap(6).text('ab😀cd'), 'ab😀');
  });

  it('cuts argv as its cmdline: whole arguments, then the one that crosses, the rest left out', () => {
    const cap = new FieldCap(10);
    assert.deepEqual(cap.list(['ls', '-l']), ['ls', '-l']);
    assert.equal(cap.hit, false);
    assert.deepEqual(cap.list(['ls', '-la', '/very/long/path', 'more']), ['ls', '-la', '/ve']);
    assert.equal(cap.hit, true);
    assert.deepEqual(new FieldCap(5).list(['12345', 'x']), ['12345']);
  });
});

describe('the size budget, in every format', () => {
  for (const name of FORMATS) {
    it(`${name}: 32 ancestors all carrying 4 KiB of hostile text stay under 1 MiB at the default cap, flagged "ancestry"`, () => {
      const l = hostileLineage(32, 4096);
      const uncapped = line(make(name), l);
      assert.ok(uncapped.length > MIB, `without a cap the line is ${uncapped.length} bytes`);
      const f = make(name, { ancestorFieldMaxBytes: 1024 });
      const text = line(f, l);
      assert.ok(Buffer.byteLength(text) < MIB, `${Buffer.byteLength(text)} bytes`);
      const doc = JSON.parse(text) as Record<string, any>;
      assert.deepEqual(flags(name, doc), name === 'osquery' ? ['ancestry'] : ['ancestry']);
      assert.equal(f.lastCut, CUT_ANCESTRY);
      assert.deepEqual(schemaProblems(name, doc), []);
      if (name === 'osquery') {
        const a = JSON.parse(doc.columns.ancestry as string) as { cmdline: string; path: string; cwd: string; truncated?: boolean }[];
        assert.equal(a.length, 32);
        for (const e of a) {
          assert.equal(e.truncated, true);
          assert.ok(Buffer.byteLength(e.cmdline) <= 1024 && Buffer.byteLength(e.path) <= 1024 && Buffer.byteLength(e.cwd) <= 1024);
        }
        assert.ok(a[0].cmdline.startsWith('/bin/a0'), 'the cut keeps the start of the text');
      }
    });

    it(`${name}: an innocent line is not cut and carries no flag`, () => {
      const f = make(name, { ancestorFieldMaxBytes: 1024 });
      const doc = JSON.parse(line(f, makeLineage(32))) as Record<string, any>;
      assert.deepEqual(flags(name, doc), []);
      assert.equal(f.lastCut, 0);
      // The cached elements of a hostile lineage do not flag the next, innocent, line.
      line(f, hostileLineage(4, 4096));
      assert.equal(f.lastCut, CUT_ANCESTRY);
      line(f, makeLineage(5));
      assert.equal(f.lastCut, 0);
    });

    for (const maxEventBytes of [64 * 1024, MIB]) {
      it(`${name}: the reduced format fits event_max_bytes=${maxEventBytes} with 64 hostile ancestors and 32 KiB argv, flagged "event"`, () => {
        const l = hostileLineage(64, 4096, 32 * 1024);
        const f = make(name, { ancestryDetail: 'ids', ancestorFieldMaxBytes: 32 * 1024, fieldMaxBytes: reducedFieldMaxBytes(maxEventBytes) });
        const text = line(f, l);
        assert.ok(Buffer.byteLength(text) + 1 <= maxEventBytes, `${Buffer.byteLength(text)} bytes`);
        const doc = JSON.parse(text) as Record<string, any>;
        assert.ok(flags(name, doc).includes('event'));
        assert.equal(f.lastCut & CUT_EVENT, CUT_EVENT);
        assert.deepEqual(schemaProblems(name, doc), []);
        const fork = make(name, { fieldMaxBytes: reducedFieldMaxBytes(maxEventBytes) });
        const big = makeView(501, 500, { argv: [hostile(32 * 1024, 'x')], cmdline: hostile(32 * 1024, 'x'), path: hostile(4096, '/p') });
        for (const ev of [{ ...makeForkEvent(), process: big }, { ...makeExitEvent(), process: big }]) {
          const t = 'cloneFlags' in ev.record ? fork.fork(ev as ReturnType<typeof makeForkEvent>) : fork.exit(ev as ReturnType<typeof makeExitEvent>);
          assert.ok(Buffer.byteLength(t) < maxEventBytes);
          assert.ok(flags(name, JSON.parse(t) as Record<string, any>).includes('event'));
        }
      });
    }
  }

  it('osquery cmdline_size is the command line\'s own size when the column holds less of it', () => {
    const l = hostileLineage(2, 4096, 8192);
    const f = make('osquery', { fieldMaxBytes: 1000 });
    const cols = (JSON.parse(line(f, l)) as { columns: Record<string, string> }).columns;
    assert.ok(Buffer.byteLength(cols.cmdline) <= 1000);
    assert.equal(Number(cols.cmdline_size), Buffer.byteLength(l.process.cmdline));
  });
});
