import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isAncestrydError } from '../../../src/errors';
import { loadConfig } from '../../../src/daemon/config/config';
import { diffConfigs, reloadConfig } from '../../../src/daemon/config/config-diff';
import { optionSpec, type OptionName } from '../../../src/daemon/config/option-schema';
import type { HostFacts } from '../../../src/daemon/config/option-types';

const dir = mkdtempSync(join(tmpdir(), 'ancestryd-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const host: HostFacts = { cwd: dir, writable: () => true };

describe('config reload', () => {
  it('lists the options safe to change on SIGHUP', () => {
    const reloadable: OptionName[] = ['log_level', 'logger_tls_period', 'logger_tls_max_lines', 'event_types', 'process_ancestry_cache_ttl', 'process_ancestry_cache_size'];
    const restart: OptionName[] = ['process_ancestry_max_depth', 'bpf_ring_buffer_size', 'logger_plugin', 'admin_socket', 'metrics_address', 'logger_format'];
    for (const o of reloadable) assert.equal(optionSpec(o).reloadable, true, `${o} is reloadable`);
    for (const o of restart) assert.ok(!optionSpec(o).reloadable, `${o} needs a restart`);
  });

  it('splits changes into reloadable and restart-required, by effective value', () => {
    const a = loadConfig({ argv: ['--config=', '--process_ancestry_preset=small'], env: {}, host });
    const b = loadConfig({ argv: ['--config=', '--process_ancestry_preset=large', '--log_level=debug', '--logger_plugin=stdout', '--event_types=exec,fork'], env: {}, host });
    const d = diffConfigs(a, b);
    assert.deepEqual(d.reloadable.map((c) => c.option), [
      'process_ancestry_preset', 'process_ancestry_cache_size', 'process_ancestry_cache_max_bytes', 'process_ancestry_cache_ttl', 'event_types', 'log_level',
    ]);
    assert.deepEqual(d.restartRequired, [
      { option: 'process_ancestry_max_depth', from: 16, to: 24 },
      { option: 'logger_plugin', from: ['filesystem'], to: ['stdout'] },
    ]);
    assert.deepEqual(diffConfigs(a, a), { reloadable: [], restartRequired: [] });
  });

  it('reloads the same sources: the file is read again, flags and environment stay', () => {
    const p = join(dir, 'a.conf');
    writeFileSync(p, JSON.stringify({ options: { log_level: 'info', logger_tls_max_lines: '100', bpf_argv_max_bytes: '1024' } }));
    const first = loadConfig({ argv: [`--config=${p}`, '--logger_tls_period=2'], env: { ANCESTRYD_METRICS_ADDRESS: '127.0.0.1:9494' }, host });
    writeFileSync(p, JSON.stringify({ options: { log_level: 'debug', logger_tls_max_lines: '200', bpf_argv_max_bytes: '2048' } }));
    const { config, diff } = reloadConfig(first);
    assert.equal(config.values.logger_tls_period, 2);
    assert.equal(config.values.metrics_address, '127.0.0.1:9494');
    assert.deepEqual(diff.reloadable.map((c) => [c.option, c.to]), [['logger_tls_max_lines', 200], ['log_level', 'debug']]);
    assert.deepEqual(diff.restartRequired.map((c) => [c.option, c.from, c.to]), [['bpf_argv_max_bytes', 1024, 2048]]);
  });

  it('throws on an invalid file so the daemon keeps the running configuration', () => {
    const p = join(dir, 'b.conf');
    writeFileSync(p, JSON.stringify({ options: { log_level: 'info' } }));
    const first = loadConfig({ argv: [`--config=${p}`], env: {}, host });
    writeFileSync(p, JSON.stringify({ options: { log_level: 'chatty' } }));
    assert.throws(() => reloadConfig(first), (err) => isAncestrydError(err, 'ANC_CONFIG_INVALID'));
    assert.equal(first.values.log_level, 'info');
  });
});
