export { BootClock, readBootId } from './boot-clock';
export { Collector, type CollectorHandlers, type CollectorOptions } from './collector';
export { KernelChain } from './decode';
export type {
  DecodeFailure, ExecRecord, ExitRecord, ForkRecord, KernelRecord, ProcessRef, TaskRecord,
} from './decode';
export type { CounterKind, KernelCounters } from './load';
export { ExecFlags, Limits } from './layout';
