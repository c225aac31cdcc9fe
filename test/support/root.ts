/**
 * e2e tests need the real kernel: they fail, loudly and with the fix, when
 * they cannot have it. They never skip.
 */
import { existsSync } from 'node:fs';

export function requireRootAndBpf(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('this e2e test loads BPF programs: run it as root (CI runs .ci/run as root)');
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    throw new Error('/sys/kernel/btf/vmlinux is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y');
  }
}
