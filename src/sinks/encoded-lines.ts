/**
 * Serialized events as the sinks take them: UTF-8 lines, each ending in
 * "\n", back to back in one buffer, with one kernel timestamp per line.
 *
 * The pipeline's formats write events straight into such a buffer
 * (src/events/line-buffer.ts), once per drain pass: the file output writes
 * it as it is and the spool copies it, so an event is never held as a
 * JavaScript string nor encoded twice.
 */
export interface EncodedLines {
  /** Line i spans [i === 0 ? 0 : ends[i - 1], ends[i]); bytes past ends[count - 1] mean nothing. */
  readonly data: Buffer;
  readonly ends: ArrayLike<number>;
  /** CLOCK_BOOTTIME ns of each line's event. */
  readonly ktimes: ArrayLike<number>;
  readonly count: number;
}

export function lineStart(src: EncodedLines, i: number): number {
  return i === 0 ? 0 : src.ends[i - 1];
}
