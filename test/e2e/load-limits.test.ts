/**
 * Issue 9: every documented value of the load-time settings must load into
 * this kernel. The verifier decides at load time, on the values patched into
 * the object, so a change that pushes one corner past its budget (as 42+
 * ancestors and 24 KiB+ of failed-exec argv once did, with E2BIG) fails here.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { ExecTraceProgram } from '../../src/collector/load';
import { OPTIONS, REAL_HOST, type OptionName } from '../../src/daemon/config/option-schema';
import { requireBuilt, ROOT } from '../support/paths';

const OBJECT = join(ROOT, 'build', 'exec_trace.bpf.o');

/** [min, max] as the schema documents them: both accepted, one step beyond each refused. */
function range(option: OptionName, min: number, max: number, step: (n: number, dir: 1 | -1) => number): [number, number] {
  const spec = OPTIONS[option];
  const ok = (v: number) => {
    try {
      spec.parse(String(v), { name: option, host: REAL_HOST });
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(ok(min) && ok(max), `${option} accepts ${min} and ${max}`);
  assert.ok(!ok(step(min, -1)) && !ok(step(max, 1)), `${option} refuses values beyond [${min}, ${max}]`);
  return [min, max];
}
const byOne = (n: number, dir: 1 | -1) => n + dir;
const powerOfTwo = (n: number, dir: 1 | -1) => (dir > 0 ? n * 2 : n / 2);

describe('the BPF object loads at the extremes of every load-time setting (issue 9)', () => {
  const [depthMin, depthMax] = range('process_ancestry_max_depth', 1, 64, byOne);
  const [argvMin, argvMax] = range('bpf_argv_max_bytes', 0, 32768, byOne);
  const [ringMin, ringMax] = range('bpf_ring_buffer_size', 256 * 1024, 1024 ** 3, powerOfTwo);

  for (const chainDepth of [depthMin, depthMax]) {
    for (const argvMaxBytes of [argvMin, argvMax]) {
      for (const execFailed of [true, false]) {
        it(`chain depth ${chainDepth}, argv ${argvMaxBytes} bytes, failed execs ${execFailed ? 'on' : 'off'}`, () => {
          requireBuilt(OBJECT);
          const p = ExecTraceProgram.open({
            objectPath: OBJECT, chainDepth, argvMaxBytes, execFailed,
            wakeupBytes: 0, ringBytes: ringMin,
          });
          try {
            assert.ok(p.attached.length >= (execFailed ? 5 : 3), `attached ${p.attached.join(', ')}`);
          } finally {
            p.close();
          }
        });
      }
    }
  }

  it(`the largest ring buffer (${ringMax} bytes) with the largest records`, () => {
    const p = ExecTraceProgram.open({
      objectPath: OBJECT, chainDepth: depthMax, argvMaxBytes: argvMax, execFailed: true,
      wakeupBytes: ringMax - 1, ringBytes: ringMax,
    });
    p.close();
  });
});
