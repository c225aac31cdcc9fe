/** Where tests find the repository's build outputs, whatever dist/ depth they run from. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bpf'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

export const ROOT = findRoot();
export const BPF_OBJECT = join(ROOT, 'build', 'exec_trace.bpf.o');
export const WIRE_HEADER = join(ROOT, 'bpf', 'exec_trace.h');

/** Build outputs are prerequisites: say how to make them instead of failing obscurely. */
export function requireBuilt(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run "make" first`);
  return path;
}
