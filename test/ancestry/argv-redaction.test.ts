/**
 * cmdline_redaction_patterns (issue 10 item 11): secrets in argv are masked
 * before the process table keeps them, argv and cmdline alike.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ArgvRedactor, DEFAULT_REDACTION_PATTERNS, expandRedactionPatterns, MASK } from '../../src/ancestry/argv-redaction';
import { argvList } from '../../src/collector/byte-text';
import { argvOf } from '../support/argv';

const defaults = new ArgvRedactor(DEFAULT_REDACTION_PATTERNS);

/** The redactor works on argv's one-string form; these cases read better as lists. */
function redactList(r: ArgvRedactor, argv: readonly string[]): string[] {
  const a = argvOf(argv);
  r.redact(a);
  assert.equal(a.cmdline, argvList(a.argvText).join(' '), 'argv and cmdline say the same');
  return argvList(a.argvText);
}

describe('the default patterns', () => {
  const cases: [string[], string[]][] = [
    [['mysql', '--password=hunter2', 'db'], ['mysql', `--password=${MASK}`, 'db']],
    [['psql', '--password', 'hunter2', '-h', 'db'], ['psql', '--password', MASK, '-h', 'db']],
    [['env', 'PGPASSWORD=s3cret', 'psql'], ['env', `PGPASSWORD=${MASK}`, 'psql']],
    [['env', 'MYSQL_PWD=s3cret', 'mysql'], ['env', `MYSQL_PWD=${MASK}`, 'mysql']],
    [['tool', '--api-key', 'AKIA123', '--client_secret=xyz'], ['tool', '--api-key', MASK, `--client_secret=${MASK}`]],
    [['git', 'clone', 'https://bob:s3cret@example.com/r.git'], ['git', 'clone', `https://bob:${MASK}@example.com/r.git`]],
    [['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', `Authorization: Bearer ${MASK}`]],
    [['curl', 'https://x.example/api?token=abc&x=1'], ['curl', `https://x.example/api?token=${MASK}&x=1`]],
    [['sh', '-c', 'PASSWORD=abc ./run --token t0k'], ['sh', '-c', `PASSWORD=${MASK} ./run --token ${MASK}`]],
  ];
  for (const [argv, want] of cases) {
    it(`${argv.join(' ')} → ${want.join(' ')}`, () => {
      assert.deepEqual(redactList(defaults, argv), want);
    });
  }

  it('leaves innocent command lines alone, as the same string', () => {
    for (const argv of [['ls', '-la', '/etc/passwd'], ['grep', '-r', 'token', 'src'], ['ssh', '-p', '22', 'host'],
      ['passwd', 'alice'], ['curl', 'https://example.com/a:b@c'], ['openssl', 'rand', '-hex', '16']]) {
      const a = argvOf(argv);
      const [argvText, cmdline] = [a.argvText, a.cmdline];
      defaults.redact(a);
      assert.ok(a.argvText === argvText && a.cmdline === cmdline, argv.join(' '));
    }
  });

  it('masks every occurrence, and a hostile 32 KiB argument is handled (the patterns are linear)', () => {
    const argv = ['x', '--password=a', '--password=b', 'a'.repeat(32 * 1024), '--password', 'c'];
    assert.deepEqual(redactList(defaults, argv), ['x', `--password=${MASK}`, `--password=${MASK}`, argv[3], '--password', MASK]);
    const many = Array.from({ length: 2000 }, () => '--pass');
    assert.deepEqual(redactList(defaults, many), many);
  });
});

describe('operator patterns', () => {
  it('a pattern without groups masks its whole match', () => {
    assert.deepEqual(redactList(new ArgvRedactor(['tok_[0-9a-f]{8}']), ['run', 'x=tok_deadbeef!']), ['run', `x=${MASK}!`]);
  });

  it('a match across arguments masks each part, argv and cmdline agree', () => {
    const r = new ArgvRedactor([String.raw`--vault-pass\s+(\S+\s+\S+)`]);
    const out = redactList(r, ['ansible', '--vault-pass', 'two words', 'play.yml']);
    assert.deepEqual(out, ['ansible', '--vault-pass', MASK, 'play.yml']);
    assert.deepEqual(redactList(new ArgvRedactor(['(foo bar)']), ['x', 'foo', 'bar', 'y']), ['x', MASK, MASK, 'y']);
  });

  it('a pattern with a back-reference still matches (no combined pre-test)', () => {
    assert.deepEqual(redactList(new ArgvRedactor([String.raw`(["'])(.+?)\1`]), ['echo', '"hi"']), ['echo', `${MASK}"`]);
  });

  it('case-insensitive; named groups work; overlapping matches merge', () => {
    assert.deepEqual(redactList(new ArgvRedactor(['KEY=(?<v>\\w+)']), ['key=abc']), [`key=${MASK}`]);
    assert.deepEqual(redactList(new ArgvRedactor(['(abc)', '(bcd)']), ['xabcdx']), [`x${MASK}x`]);
  });

  it('"default" expands to the built-in set, once, beside the operator\'s own', () => {
    assert.deepEqual(expandRedactionPatterns(['default', 'x(y)', 'default']), [...DEFAULT_REDACTION_PATTERNS, 'x(y)']);
    assert.deepEqual(expandRedactionPatterns([]), []);
  });
});
