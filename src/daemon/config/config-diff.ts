/**
 * What a SIGHUP may change: the options marked reloadable in the schema, and
 * the diff of two loaded configurations split into changes the running
 * daemon can apply and changes that only take effect after a restart.
 */
import { loadConfig, type AncestrydConfig } from './config';
import { OPTION_NAMES, optionSpec, type OptionName } from './option-schema';
import type { OptionValue } from './option-types';

export interface ConfigChange {
  readonly option: OptionName;
  readonly from: OptionValue;
  readonly to: OptionValue;
}

export interface ConfigDiff {
  /** Apply these now (log level, batch sizes, event types, cache size/TTL, …). */
  readonly reloadable: readonly ConfigChange[];
  /** These keep their old value until a restart; log them as such. */
  readonly restartRequired: readonly ConfigChange[];
}

function same(a: OptionValue, b: OptionValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Changes between two configs, by effective value (a preset change shows as the values it changed). */
export function diffConfigs(prev: AncestrydConfig, next: AncestrydConfig): ConfigDiff {
  const reloadable: ConfigChange[] = [];
  const restartRequired: ConfigChange[] = [];
  for (const option of OPTION_NAMES) {
    const from = prev.values[option];
    const to = next.values[option];
    if (same(from, to)) continue;
    (optionSpec(option).reloadable ? reloadable : restartRequired).push({ option, from, to });
  }
  return { reloadable, restartRequired };
}

/**
 * SIGHUP: read the same sources again (the file may have changed; flags
 * and environment are those of the start). Throws ConfigInvalidError, in
 * which case the daemon keeps running with `prev`.
 */
export function reloadConfig(prev: AncestrydConfig): { config: AncestrydConfig; diff: ConfigDiff } {
  const config = loadConfig(prev.loadOptions);
  return { config, diff: diffConfigs(prev, config) };
}
