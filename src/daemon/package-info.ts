/**
 * Where the installed package lives and which version it is: the default
 * BPF object path, `ancestryd --version` and ancestryd_build_info need both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageInfo {
  /** Directory holding package.json (the repository, or the installed package). */
  readonly root: string;
  readonly version: string;
}

let cached: PackageInfo | null = null;

/** Walks up from this file to the package.json named "ancestryd" (works from src/ and dist/src/). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'ancestryd') {
          cached = { root: dir, version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
          return cached;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Bundled without package.json: fall back to two levels above dist/src/daemon.
  cached = { root: join(__dirname, '..', '..', '..'), version: '0.0.0' };
  return cached;
}
