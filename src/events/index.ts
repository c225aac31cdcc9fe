/** What the daemon uses from src/events: pick a format by name. */
import { EcsFormat } from './ecs';
import { OsqueryResultFormat, type OsqueryFormatOptions } from './osquery-result';
import type { EventFormat, FormatName } from './schema';

export type { EventFormat, EventType, FormatName, HostIdentity, EventClock } from './schema';
export { EVENT_TYPES, FORMAT_NAMES, hostIdentity, readMachineId } from './schema';
export { DEFAULT_OSQUERY_NAMES } from './osquery-result';
export { ECS_VERSION } from './ecs';

export type FormatOptions = OsqueryFormatOptions;

export function createFormat(name: FormatName, opts: FormatOptions): EventFormat {
  return name === 'ecs' ? new EcsFormat(opts) : new OsqueryResultFormat(opts);
}
export { LineBuffer } from './line-buffer';
