/**
 * The spool's backlog as the sink driver sees it: how many stored events
 * are not read yet, and the CLOCK_BOOTTIME of the oldest (the lag it
 * reports and alerts on). Appends, reads, drops and corrupt records all
 * move it, from the writer's side and the reader's, so it is one running
 * count they share rather than a scan of the segments on every question.
 * After a partial read the oldest time is the last read event's, an
 * approximation the queue contract allows.
 */
export class UnreadTally {
  private count = 0;
  private oldest: number | null = null;

  get events(): number {
    return this.count;
  }

  /** CLOCK_BOOTTIME ns of the oldest unread event, or null when none. */
  get oldestKtimeNs(): number | null {
    return this.count > 0 ? this.oldest : null;
  }

  /** What recovery found at open. */
  set(events: number, oldestKtimeNs: number | null): void {
    this.count = events;
    this.oldest = oldestKtimeNs;
  }

  appended(events: number, firstKtimeNs: number): void {
    if (this.count === 0) this.oldest = firstKtimeNs;
    this.count += events;
  }

  /** A batch was read; `lastKtimeNs` is its last event's. */
  read(events: number, lastKtimeNs: number): void {
    this.count = Math.max(0, this.count - events);
    if (this.count > 0) this.oldest = lastKtimeNs;
  }

  /** Events that will never be read (dropped, corrupt). */
  lost(events: number): void {
    this.count = Math.max(0, this.count - events);
  }

  /** The reader found nothing more to read. */
  none(): void {
    this.count = 0;
    this.oldest = null;
  }
}
