/**
 * The enroll request's host_details, shaped as osquery sends them (Fleet
 * reads os_version, osquery_info, system_info, platform_info; each a map of
 * strings). Read once at start from /etc/os-release, /proc and node:os.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export type HostDetails = Record<string, Record<string, string>>;

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** 32 hex digits → 8-4-4-4-12 (how osquery shows a machine uuid). */
export function uuidFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

export function collectHostDetails(hostname: string, machineId: string | null, agentVersion: string): HostDetails {
  const rel = parseOsRelease(readText('/etc/os-release'));
  const [major = '', minor = '', patch = ''] = (rel.VERSION_ID ?? '').split('.');
  const arch = os.machine();
  const uuid = readText('/sys/class/dmi/id/product_uuid').toUpperCase() || (machineId ? uuidFromHex(machineId) : '');
  const cpus = os.cpus();
  return {
    os_version: {
      name: rel.NAME ?? 'Linux',
      version: rel.VERSION ?? '',
      major,
      minor,
      patch,
      build: '',
      platform: rel.ID ?? 'linux',
      platform_like: rel.ID_LIKE ?? '',
      codename: rel.VERSION_CODENAME ?? '',
      arch,
    },
    osquery_info: {
      version: agentVersion,
      build_platform: 'linux',
      build_distro: 'ancestryd',
      uuid,
      instance_id: uuid,
      pid: String(process.pid),
      extensions: 'inactive',
    },
    system_info: {
      hostname,
      computer_name: hostname,
      local_hostname: hostname,
      uuid,
      cpu_type: arch,
      cpu_brand: cpus[0]?.model ?? '',
      cpu_logical_cores: String(cpus.length),
      physical_memory: String(os.totalmem()),
      hardware_vendor: readText('/sys/class/dmi/id/sys_vendor'),
      hardware_model: readText('/sys/class/dmi/id/product_name'),
    },
    platform_info: {
      vendor: readText('/sys/class/dmi/id/bios_vendor'),
      version: readText('/sys/class/dmi/id/bios_version'),
    },
  };
}
