/** What the daemon uses from src/events: pick a format by name. */
import { EcsFormat } from './ecs';
import { OcsfFormat } from './ocsf';
import { OsqueryResultFormat, type OsqueryFormatOptions } from './osquery-result';
import type { EventFormat, FormatName } from './schema';

export type { EventFormat, EventType, FormatName, HostIdentity, EventClock } from './schema';
export { CUT_ANCESTRY, CUT_EVENT, EVENT_TYPES, FORMAT_NAMES } from './schema';
export { HOST_IDENTIFIERS, resolveHost, type HostIdentifierSource } from './host-identity';
export { DEFAULT_OSQUERY_NAMES } from './osquery-result';
export { ECS_VERSION } from './ecs';
export { OCSF_VERSION } from './ocsf';

export type FormatOptions = OsqueryFormatOptions & { productVersion?: string };
export { FieldCap } from './field-cap';
export { ANCESTRY_DETAILS, type AncestryDetail } from './ancestor-json';

export function createFormat(name: FormatName, opts: FormatOptions): EventFormat {
  switch (name) {
    case 'ecs': return new EcsFormat(opts);
    case 'ocsf': return new OcsfFormat(opts);
    default: return new OsqueryResultFormat(opts);
  }
}
export { LineBuffer } from './line-buffer';
