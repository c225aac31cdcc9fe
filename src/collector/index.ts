export { BootClock, readBootId } from './boot-clock';
export { Collector, type CollectorHandlers, type CollectorOptions } from './collector';
export { keepRecord } from './decode';
export { KernelChain } from './kernel-chain';
export type {
  DecodeFailure, ExecRecord, ExitRecord, ForkRecord, KernelRecord, ProcessRef, TaskRecord,
} from './decode';
export type { CounterKind, KernelCounters } from './load';
export { ExecFlags, Limits } from './layout';
