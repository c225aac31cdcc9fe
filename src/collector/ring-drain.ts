/**
 * Drains the BPF ring buffer from JavaScript through a memory mapping of it.
 *
 * Why not libbpf's ring_buffer__consume: a per-record FFI callback costs
 * 3–5 µs and lost 80% of records at ~1M records/s on our 2-core VM; reading
 * the mapping in JS costs 0.6–0.8 µs per record and lost none.
 *
 * The mapping (kernel/bpf/ringbuf.c): page 0 holds consumer_pos, which we
 * write; from page 1, read-only, producer_pos and then the data area mapped
 * twice back to back, so a record that wraps is still contiguous. Each record
 * starts with an 8-byte header: u32 length with BUSY/DISCARD bits, u32 page
 * offset.
 *
 * When to drain: on a timer while records flow, and on the kernel's wakeup
 * once the ring has been quiet (see loop()).
 */
import { AncestrydError } from '../errors';
import type { ConsumerState } from './consumer-state';
import { EtHeader } from './layout';
import {
  describeErrno, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_EVENT_SIZE, EPOLLIN,
  loadNative, MAP_FAILED, MAP_SHARED, Native, PROT_READ, PROT_WRITE, Ptr, SC_PAGESIZE,
} from './libbpf';

const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const RECORD_HEADER = 8;
/**
 * epoll_wait timeout when waiting for the kernel's wakeup. It bounds how long
 * stop() waits for the worker to come back, and how long a record that raced
 * the drain's last look before sleeping waits (wakeup_flag() in the BPF
 * program explains the race): asleep, each timeout drains anyway.
 */
const WAKEUP_WAIT_MS = 500;
/** Quiet time before the drain stops its timer and sleeps until the kernel wakes it. */
const QUIET_BEFORE_SLEEP_MS = 100;

/** Called for each record, with the ring's data area and the record's span in it. */
export type RecordHandler = (data: Buffer, offset: number, length: number) => void;

export interface DrainOptions {
  /** Drain timer: the longest a record waits at low rates (kernel wakeups are batched). */
  waitTimeoutMs: number;
  /** Records read before consumer_pos is published, so the kernel can reuse space. */
  batchRecords: number;
  /** Called after each non-empty drain pass, e.g. to flush downstream batches. */
  onBatchEnd?: (records: number) => void;
}

export interface DrainStats {
  records: number;
  discarded: number;
  batches: number;
  /** Drains the kernel's wakeup started (bpf_wakeup_bytes pending, or the first record while asleep). */
  wakeups: number;
  /** Drains the timer started (every waitTimeoutMs while records flow). */
  timeouts: number;
  /** Times the drain stopped its timer after QUIET_BEFORE_SLEEP_MS without records. */
  sleeps: number;
  /** Records found by the fallback poll while asleep: a wakeup the kernel did not send (a race, see WAKEUP_WAIT_MS). */
  missedWakeups: number;
  /** epoll_wait failures (EINTR): counted and treated as a timeout. */
  waitErrors: number;
  /** Records whose handler threw; the record is skipped, the drain goes on. */
  handlerErrors: number;
  /** Bytes waiting in the ring at the last pass: how far behind the drain is. */
  pendingBytes: number;
}

export class RingDrain {
  private readonly n: Native;
  private readonly pageSize: number;
  private consPtr: Ptr | null = null;
  private prodPtr: Ptr | null = null;
  private readonly prodLen: number;
  /** et_consumer.sleeping, shared with the BPF program; null for a ring drained only synchronously (drainPass). */
  private readonly sleeping: Int32Array | null;
  private readonly consPos: BigUint64Array;
  /**
   * Where the next pass reads. consumer_pos, which hands space back to the
   * kernel, is published up to here, or only up to holdAt while the owner
   * says a pass's events are not durable yet (hold()).
   */
  private readPos = 0;
  private holdAt: number | null = null;
  private passStart = 0;
  private readonly prodPos: BigUint64Array;
  private readonly headers: Int32Array;
  private readonly data: Buffer;
  private readonly mask: number;
  private epfd = -1;
  private readonly events: Buffer;
  private running = false;
  private waiting: Promise<void> | null = null;
  /** Made on the first schedule() and re-armed from then on; timerArmed says whether it is pending. */
  private timer: NodeJS.Timeout | null = null;
  private timerArmed = false;
  private draining: Promise<number> | null = null;
  /** Timer stopped; the kernel wakes the drain with the next record. */
  private asleep = false;
  private quietTicks = 0;
  readonly stats: DrainStats = {
    records: 0, discarded: 0, batches: 0, wakeups: 0, timeouts: 0, sleeps: 0, missedWakeups: 0,
    waitErrors: 0, handlerErrors: 0, pendingBytes: 0,
  };
  lastHandlerError: unknown = null;

  constructor(
    ringFd: number,
    ringBytes: number,
    consumer: ConsumerState | null,
    private readonly handler: RecordHandler,
    private readonly opts: DrainOptions,
  ) {
    this.n = loadNative();
    const n = this.n;
    this.pageSize = Number(n.c.sysconf(SC_PAGESIZE));
    this.prodLen = this.pageSize + 2 * ringBytes;
    try {
      const cons = n.c.mmap(null, this.pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, ringFd, 0);
      if (cons === MAP_FAILED) throw this.fail('mapping the ring consumer page');
      this.consPtr = cons;
      const prod = n.c.mmap(null, this.prodLen, PROT_READ, MAP_SHARED, ringFd, this.pageSize);
      if (prod === MAP_FAILED) throw this.fail('mapping the ring data area');
      this.prodPtr = prod;
      this.sleeping = consumer === null ? null : consumer.sleeping;
      const consAb = n.view(cons, this.pageSize);
      const prodAb = n.view(prod, this.prodLen);
      this.consPos = new BigUint64Array(consAb, 0, 1);
      this.readPos = Number(this.consPos[0]);
      this.passStart = this.readPos;
      this.prodPos = new BigUint64Array(prodAb, 0, 1);
      this.headers = new Int32Array(prodAb, this.pageSize, (2 * ringBytes) / 4);
      this.data = Buffer.from(prodAb, this.pageSize, 2 * ringBytes);
      this.mask = ringBytes - 1;
      this.events = Buffer.alloc(EPOLL_EVENT_SIZE * 4);
      this.epfd = n.c.epoll_create1(EPOLL_CLOEXEC);
      if (this.epfd < 0) throw this.fail('epoll_create1');
      const ev = Buffer.alloc(EPOLL_EVENT_SIZE);
      ev.writeUInt32LE(EPOLLIN, 0);
      if (n.c.epoll_ctl(this.epfd, EPOLL_CTL_ADD, ringFd, ev) < 0) throw this.fail('epoll_ctl on the ring');
    } catch (err) {
      this.release();
      throw err;
    }
  }

  start(): void {
    if (this.sleeping === null) throw new AncestrydError('ANC_RING', 'this ring is drained synchronously only');
    if (this.running) return;
    this.running = true;
    this.waiting = this.loop();
  }

  /**
   * Stop waiting, then drain what the ring holds now: everything, once the
   * programs are detached; up to this moment, while pinned programs go on
   * writing for the next daemon. Safe to call twice.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.waiting) await this.waiting;
    this.waiting = null;
    if (this.consPtr !== null) this.drainToEnd();
  }

  /** Drain, synchronously, up to the producer position seen now. Returns the records read. */
  drainToEnd(): number {
    const end = Number(Atomics.load(this.prodPos, 0));
    let total = 0;
    for (let got = 1; got > 0 && this.readPos < end;) {
      got = this.drainPass();
      total += got;
    }
    return total;
  }

  /**
   * The events of the current pass (and what follows) are not durable yet
   * (an output holds them in memory: its disk is full): the kernel keeps
   * their records until release(), so a daemon killed meanwhile loses
   * nothing. The drain reads on; the ring fills, and past its size the
   * kernel drops records, counted. Until releaseHold().
   */
  hold(): void {
    this.holdAt ??= this.passStart;
  }

  /** Everything read is durable again: hand its space back. */
  releaseHold(): void {
    if (this.holdAt === null) return;
    this.holdAt = null;
    this.publish();
  }

  /** Bytes read but kept from the kernel by hold(). */
  get heldBytes(): number {
    return this.holdAt === null ? 0 : this.readPos - this.holdAt;
  }

  private publish(): void {
    Atomics.store(this.consPos, 0, BigInt(this.holdAt ?? this.readPos));
  }

  /** Bytes between the read and producer positions. */
  pending(): number {
    return Number(Atomics.load(this.prodPos, 0)) - this.readPos;
  }

  /** The kernel time of the oldest record waiting (discarded ones skipped), or null when none is. */
  firstPendingKtimeNs(): number | null {
    const prod = Number(Atomics.load(this.prodPos, 0));
    for (let cons = this.readPos; cons < prod;) {
      const off = cons & this.mask;
      const word = Atomics.load(this.headers, off >>> 2);
      if (word & BUSY_BIT) return null;
      const len = word & ~(BUSY_BIT | DISCARD_BIT);
      if (!(word & DISCARD_BIT)) {
        return len < EtHeader.size ? null : Number(this.data.readBigUInt64LE(off + RECORD_HEADER + EtHeader.fields.ktime_ns[0]));
      }
      cons += (len + RECORD_HEADER + 7) & ~7;
    }
    return null;
  }

  /** Unmap and close; stop() first to keep the last records. */
  close(): void {
    this.running = false;
    this.release();
  }

  /**
   * One pass: read up to batchRecords records, then publish consumer_pos with
   * a single 64-bit store. Returns the records read (discarded ones included).
   */
  drainPass(): number {
    const budget = this.opts.batchRecords;
    const headers = this.headers;
    const mask = this.mask;
    let cons = this.readPos;
    this.passStart = cons;
    const prod = Number(Atomics.load(this.prodPos, 0));
    let n = 0;
    while (cons < prod && n < budget) {
      const off = cons & mask;
      const word = Atomics.load(headers, off >>> 2);
      if (word & BUSY_BIT) break; // reserved, not yet submitted
      const len = word & ~(BUSY_BIT | DISCARD_BIT);
      if (word & DISCARD_BIT) this.stats.discarded++;
      else {
        try {
          this.handler(this.data, off + RECORD_HEADER, len);
        } catch (err) {
          // A bug downstream must not stop the drain; the owner logs it.
          this.stats.handlerErrors++;
          this.lastHandlerError = err;
        }
      }
      cons += (len + RECORD_HEADER + 7) & ~7;
      n++;
    }
    if (n > 0) {
      // Downstream hands the pass's events over (file written, spool appended)
      // before the kernel may reuse their space.
      try {
        this.opts.onBatchEnd?.(n);
      } catch (err) {
        this.stats.handlerErrors++;
        this.lastHandlerError = err;
      }
      this.readPos = cons;
      this.publish();
      this.stats.records += n;
      this.stats.batches++;
    }
    this.stats.pendingBytes = prod - cons;
    return n;
  }

  /**
   * Two triggers for a drain. While records flow, a timer every
   * waitTimeoutMs (the latency bound), plus the kernel's wakeup once
   * bpf_wakeup_bytes are pending (bursts). After QUIET_BEFORE_SLEEP_MS with no
   * records the timer stops and et_consumer.sleeping asks the kernel to wake
   * the drain with the next record; an idle host then costs a few wakeups a
   * second instead of 1000 / waitTimeoutMs. The count of wakeups is what
   * costs: on the development VM any wakeup of the daemon is ~100–150 µs of
   * CPU (a bare 10 ms setTimeout loop measured it), and a kernel wakeup more,
   * since koffi returns epoll_wait through a worker thread and a promise; so
   * epoll waits with a long timeout and only bursts and sleep end it.
   */
  private async loop(): Promise<void> {
    this.schedule();
    while (this.running) {
      const ready = await this.wait(WAKEUP_WAIT_MS);
      if (ready > 0) this.stats.wakeups++;
      else if (ready < 0) this.stats.waitErrors++;
      if (!this.running) break;
      if (this.asleep) {
        // Woken by the kernel (it cleared the flag), or the fallback poll.
        const got = await this.drainAll();
        if (got > 0 || ready > 0) {
          if (ready <= 0) this.stats.missedWakeups++;
          this.wake();
        }
      } else if (ready > 0) {
        await this.drainAll();
      }
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerArmed = false;
    if (this.sleeping !== null) Atomics.store(this.sleeping, 0, 0);
    await this.draining;
  }

  private schedule(): void {
    if (!this.running || this.timerArmed) return;
    this.timerArmed = true;
    if (this.timer === null) this.timer = setTimeout(this.onTimer, this.opts.waitTimeoutMs);
    else this.timer.refresh();
  }

  /**
   * The drain timer: one Timeout, re-armed with refresh(), and the pass run
   * right here when no other drain is under way. A new Timeout, an async
   * function and its promises per tick were ~3 % of the main thread flat
   * out (perf), and more per exec at low rates, where a pass holds a few.
   */
  private readonly onTimer = (): void => {
    this.timerArmed = false;
    this.stats.timeouts++;
    if (this.draining !== null) {
      this.draining.then((got) => this.afterTick(got), () => this.schedule());
      return;
    }
    let got: number;
    try {
      got = this.drainPass();
    } catch {
      this.schedule();
      return;
    }
    if (got < this.opts.batchRecords) {
      this.afterTick(got);
      return;
    }
    // A full budget means more is pending: the rest, like drainAll's passes, after a turn of the event loop.
    setImmediate(() => this.drainAll().then((more) => this.afterTick(got + more), () => this.schedule()));
  };

  private afterTick(got: number): void {
    if (got > 0) this.quietTicks = 0;
    else if (++this.quietTicks * this.opts.waitTimeoutMs >= QUIET_BEFORE_SLEEP_MS && this.sleep()) return;
    this.schedule();
  }

  /**
   * Stop the timer and let the kernel wake the drain. The flag is raised
   * before the last look at the ring, so a record submitted in between is
   * either seen here or sees the flag.
   */
  private sleep(): boolean {
    const sleeping = this.sleeping!;
    Atomics.store(sleeping, 0, 1);
    if (this.drainPass() > 0 || this.stats.pendingBytes > 0) {
      Atomics.store(sleeping, 0, 0);
      return false;
    }
    this.asleep = true;
    this.stats.sleeps++;
    return true;
  }

  private wake(): void {
    Atomics.store(this.sleeping!, 0, 0);
    this.asleep = false;
    this.quietTicks = 0;
    this.schedule();
  }

  /** Passes until the ring is empty; one at a time whichever trigger asked. Resolves with the records read. */
  private drainAll(): Promise<number> {
    if (this.draining === null) {
      this.draining = (async () => {
        let total = 0;
        for (;;) {
          const got = this.drainPass();
          total += got;
          if (got < this.opts.batchRecords) return total;
          // A full budget means more is pending: yield to the event loop
          // between passes so timers and I/O keep running under load.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      })().finally(() => {
        this.draining = null;
      });
    }
    return this.draining;
  }

  /** Resolves with epoll_wait's result; its errno lives on koffi's worker thread. */
  private wait(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.n.c.epoll_wait.async(this.epfd, this.events, 4, timeoutMs, (err, got) => {
        if (err) reject(err);
        else resolve(got);
      });
    });
  }

  private fail(step: string, e = this.n.errno()): AncestrydError {
    return new AncestrydError('ANC_RING', `${step} failed: ${describeErrno(this.n, e)}`);
  }

  private release(): void {
    const n = this.n;
    if (this.epfd >= 0) {
      n.c.close(this.epfd);
      this.epfd = -1;
    }
    if (this.prodPtr !== null) {
      n.c.munmap(this.prodPtr, this.prodLen);
      this.prodPtr = null;
    }
    if (this.consPtr !== null) {
      n.c.munmap(this.consPtr, this.pageSize);
      this.consPtr = null;
    }
  }
}
