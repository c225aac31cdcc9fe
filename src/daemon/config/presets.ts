/**
 * Sizing presets from the production guide of the osquery-based system
 * ancestryd replaces (cache size / max depth / cache TTL per fleet scale).
 * A preset fills only the options that were not set explicitly: an explicit
 * value wins wherever it was set (file, environment or flag), whichever
 * source set the preset.
 */
export type PresetName = 'small' | 'medium' | 'large' | 'enterprise';
export const PRESET_NAMES: readonly PresetName[] = ['small', 'medium', 'large', 'enterprise'];

export interface PresetValues {
  process_ancestry_cache_size: number;
  process_ancestry_max_depth: number;
  /** Seconds. */
  process_ancestry_cache_ttl: number;
  /** The budget of process_ancestry_cache_size=auto: about 3× the fixed size's entries at ~0.7 KB each. */
  process_ancestry_cache_max_bytes: number;
}

const MIB = 1024 * 1024;

export const PRESETS: Readonly<Record<PresetName, Readonly<PresetValues>>> = {
  small: { process_ancestry_cache_size: 500, process_ancestry_max_depth: 16, process_ancestry_cache_ttl: 600, process_ancestry_cache_max_bytes: 4 * MIB },
  medium: { process_ancestry_cache_size: 2000, process_ancestry_max_depth: 20, process_ancestry_cache_ttl: 300, process_ancestry_cache_max_bytes: 8 * MIB },
  large: { process_ancestry_cache_size: 5000, process_ancestry_max_depth: 24, process_ancestry_cache_ttl: 180, process_ancestry_cache_max_bytes: 16 * MIB },
  enterprise: { process_ancestry_cache_size: 10000, process_ancestry_max_depth: 32, process_ancestry_cache_ttl: 120, process_ancestry_cache_max_bytes: 32 * MIB },
};

/** The options a preset fills, in table order. */
export const PRESET_OPTIONS: readonly (keyof PresetValues)[] = [
  'process_ancestry_cache_size', 'process_ancestry_max_depth', 'process_ancestry_cache_ttl', 'process_ancestry_cache_max_bytes',
];
