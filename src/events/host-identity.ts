/**
 * Resolves the host identity events carry and the TLS server knows this
 * host by (schema.ts's HostIdentity) from host_identifier, the hostname and
 * /etc/machine-id; the caller reads the boot id (collector/boot-clock.ts).
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { AncestrydError } from '../errors';
import type { HostIdentity } from './schema';

/**
 * host_identifier, as osquery's --host_identifier: the hostname, "uuid" (the
 * machine id, which survives renames), or "specified" (specified_identifier).
 */
export const HOST_IDENTIFIERS = ['hostname', 'uuid', 'specified'] as const;
export type HostIdentifierSource = (typeof HOST_IDENTIFIERS)[number];

/** The options resolveHost() reads (the daemon's events config has them). */
export interface HostIdentifierOptions {
  readonly hostIdentifier: HostIdentifierSource;
  /** specified_identifier: read only when hostIdentifier is "specified". */
  readonly specifiedIdentifier: string | null;
}

/** /etc/machine-id (or the dbus copy), trimmed; null when neither is readable. */
export function readMachineId(paths: readonly string[] = ['/etc/machine-id', '/var/lib/dbus/machine-id']): string | null {
  for (const p of paths) {
    try {
      const id = readFileSync(p, 'utf8').trim();
      if (/^[0-9a-f]{32}$/i.test(id)) return id.toLowerCase();
    } catch {
      // next candidate
    }
  }
  return null;
}

/** `hostname` and `machineId` are the host's own unless a test gives them. */
export function resolveHost(opts: HostIdentifierOptions, bootId: string, hostname = osHostname(),
  machineId = readMachineId()): HostIdentity {
  let hostIdentifier: string;
  switch (opts.hostIdentifier) {
    case 'hostname':
      hostIdentifier = hostname;
      break;
    case 'specified':
      hostIdentifier = opts.specifiedIdentifier ?? hostname;
      break;
    case 'uuid':
      if (machineId === null) {
        throw new AncestrydError('ANC_CONFIG_INVALID',
          'host_identifier=uuid: /etc/machine-id is missing or invalid; create it (systemd-machine-id-setup) or use host_identifier=hostname');
      }
      hostIdentifier = machineId;
  }
  return { hostname, hostIdentifier, machineId, bootId };
}
