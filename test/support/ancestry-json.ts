/**
 * A whole lineage as a JSON array, each element rendered afresh: the value
 * of osquery's ancestry column, for tests and benchmarks to compare with.
 * The formats never build it this way; they join cached element texts
 * (src/events/lineage-element.ts).
 */
import type { ProcessView } from '../../src/ancestry/process-view';
import { ancestorJson } from '../../src/events/ancestor-json';

export function ancestryJson(views: readonly ProcessView[]): string {
  let out = '[';
  for (let i = 0; i < views.length; i++) {
    if (i > 0) out += ',';
    out += ancestorJson(views[i]);
  }
  return out + ']';
}
