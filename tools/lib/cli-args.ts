/**
 * The tools' command-line flags, read by node:util parseArgs in strict mode:
 * an unknown flag, a flag without its value, a stray word or a value the flag
 * does not take stops the tool with the reason and its usage (exit 2) instead
 * of being ignored — a mistyped `--secs` would otherwise measure for the
 * default time and print figures that look right. `--help` prints the usage.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

type WithHelp<O extends ParseArgsOptionsConfig> = O & { help: { type: 'boolean'; short: 'h' } };
type Values<O extends ParseArgsOptionsConfig> =
  ReturnType<typeof parseArgs<{ options: WithHelp<O>; strict: true; allowPositionals: false }>>['values'];

/** What a numeric flag accepts. */
export interface NumberRule {
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound (e.g. 0 for "more than 0"). */
  above?: number;
  max?: number;
}

export class Flags<O extends ParseArgsOptionsConfig> {
  readonly values: Values<O>;

  /** Parses `args` (default: this process's) against `options`; string defaults are given as strings. */
  constructor(private readonly usage: string, options: O, args: readonly string[] = process.argv.slice(2)) {
    let values: Values<O>;
    try {
      values = parseArgs({
        args, options: { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<O>, strict: true, allowPositionals: false,
      }).values;
    } catch (err) {
      this.fail((err as Error).message);
    }
    if (this.raw(values, 'help') === true) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    this.values = values;
  }

  /** A usage error: the reason and the usage on stderr, exit 2. */
  fail(reason: string): never {
    process.stderr.write(`${reason}\n${this.usage}\n`);
    process.exit(2);
  }

  /** The number a string flag holds (its default when absent); a value outside `rule` is a usage error. */
  number(name: keyof O & string, rule: NumberRule = {}): number {
    const n = this.optionalNumber(name, rule);
    if (n === null) this.fail(`--${name} is required`);
    return n;
  }

  /** As number(), null when the flag is absent and has no default. */
  optionalNumber(name: keyof O & string, rule: NumberRule = {}): number | null {
    const v = this.raw(this.values, name);
    if (v === undefined) return null;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    const ok = Number.isFinite(n) && (!rule.integer || Number.isInteger(n)) && (rule.min === undefined || n >= rule.min)
      && (rule.above === undefined || n > rule.above) && (rule.max === undefined || n <= rule.max);
    if (!ok) this.fail(`--${name}: expected ${describe(rule)}, got ${JSON.stringify(v)}`);
    return n;
  }

  /** The value of a string flag that must be one of `choices`. */
  choice<C extends string>(name: keyof O & string, choices: readonly C[]): C {
    const v = this.raw(this.values, name);
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      this.fail(`--${name}: expected one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as C;
  }

  private raw(values: Values<O>, name: string): unknown {
    return (values as Record<string, unknown>)[name];
  }
}

function describe(r: NumberRule): string {
  const bounds = [
    r.min !== undefined ? `>= ${r.min}` : '', r.above !== undefined ? `> ${r.above}` : '', r.max !== undefined ? `<= ${r.max}` : '',
  ].filter((b) => b !== '');
  return `${r.integer ? 'an integer' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
}
