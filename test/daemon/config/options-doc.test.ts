import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODE_TABLE } from '../../../src/daemon/exit-codes';
import { OPTION_NAMES, optionSpec } from '../../../src/daemon/config/option-schema';
import { renderOptionsMarkdown, renderReadmeSection } from '../../../src/daemon/config/options-doc';
import { requireBuilt, ROOT } from '../../support/paths';

const GEN = join(ROOT, 'dist', 'tools', 'gen-options-doc.js');

describe('generated option reference', () => {
  it('docs/options.md and README.md\'s generated sections are up to date (regenerate: node dist/tools/gen-options-doc.js)', () => {
    const r = spawnSync(process.execPath, [requireBuilt(GEN), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('documents every option, its allowed values and whether SIGHUP applies it', () => {
    const md = renderOptionsMarkdown();
    for (const name of OPTION_NAMES) {
      const row = md.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `${name} has a row`);
      assert.ok(row.includes(optionSpec(name).reloadable ? '| yes |' : '| restart |'), name);
    }
    for (const e of EXIT_CODE_TABLE) assert.ok(md.includes(`| ${e.code} | ${e.name} |`), `exit code ${e.code}`);
  });

  it('gives the README a section naming every option and every subcommand', () => {
    const readme = renderReadmeSection();
    for (const name of OPTION_NAMES) assert.ok(readme.includes(`\`${name}\``), name);
    for (const cmd of ['run', 'config', 'check', 'ancestry', 'tree', 'stats', 'events']) assert.ok(readme.includes(`ancestryd ${cmd}`), cmd);
  });
});
