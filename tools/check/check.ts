/**
 * The checker, offline: compares a results log (with its rotations) with
 * procgen's truth file and prints the verdict. Exit 1 on any lost, wrong,
 * duplicate or unmatched exec; 2 on bad usage. (Latency needs the arrival
 * times of lines: the soak measures it while the run goes on.)
 *
 * Flags: USAGE below (`npm run check -- --help`). --tag defaults to the
 * prefix of the first truth line's tag.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CheckSession } from '../../test/support/check/check-session';
import { renderCheck } from '../../test/support/check/check-text';
import { parseTruthLine } from '../../test/support/check/truth';
import { Flags } from '../lib/cli-args';

const USAGE = 'usage: check --truth FILE --log-dir DIR [--tag PREFIX] [--max-depth 32] [--json FILE]';

/** "<prefix>-<worker>-<seq>-<pid>" → prefix. */
function tagPrefixOf(tag: string): string {
  return tag.split('-').slice(0, -3).join('-');
}

function main(): number {
  const flags = new Flags(USAGE, {
    truth: { type: 'string' }, 'log-dir': { type: 'string' }, tag: { type: 'string' }, 'max-depth': { type: 'string', default: '32' },
    json: { type: 'string' },
  });
  const { truth: truthPath, 'log-dir': logDir, json } = flags.values;
  if (!truthPath || !logDir) return flags.fail('check: --truth and --log-dir are required');
  const maxDepth = flags.number('max-depth', { integer: true, min: 1 });
  let tag = flags.values.tag;
  if (tag === undefined) {
    const first = readFileSync(truthPath, 'utf8').split('\n', 1)[0];
    if (!first) {
      console.error(`${truthPath} is empty: nothing to check`);
      return 2;
    }
    tag = tagPrefixOf(parseTruthLine(first).tag);
  }
  const session = new CheckSession({ logDir, truthPath, tagPrefix: tag, maxDepth, monoMinusBootNs: 0n });
  const res = session.finish();
  console.log(renderCheck(res.check).join('\n'));
  console.log(`\n${res.tail.lines} lines in ${res.tail.files} files, ${res.badLines} not parseable`);
  if (json) writeFileSync(json, JSON.stringify(res, null, 2) + '\n');
  return res.check.ok && res.badLines === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
