/**
 * An intrusive doubly linked list of table entries, least recently used at
 * the head: moving an entry costs four pointer writes and no allocation,
 * which keeps LRU touches on the per-exec path free.
 */
import type { ProcessEntry } from './process-entry';

export class EntryList {
  head: ProcessEntry | null = null;
  tail: ProcessEntry | null = null;
  length = 0;

  push(e: ProcessEntry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail !== null) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.length++;
  }

  remove(e: ProcessEntry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = null;
    e.next = null;
    this.length--;
  }

  moveToTail(e: ProcessEntry): void {
    if (this.tail === e) return;
    this.remove(e);
    this.push(e);
  }
}
