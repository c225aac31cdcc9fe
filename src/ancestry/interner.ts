/**
 * One copy of each repeated value (comm, executable path, cgroup id): the
 * decoder makes fresh ones per record, and thousands of processes run the
 * same few programs, so an entry that keeps the first copy frees the rest.
 * Bounded, because the values come from whoever runs on the host; once
 * full, new values are kept as they come.
 */
export class Interner<T extends string | bigint> {
  private readonly values = new Map<T, T>();

  constructor(private readonly max: number) {}

  intern(v: T): T {
    const have = this.values.get(v);
    if (have !== undefined) return have;
    if (this.values.size < this.max) this.values.set(v, v);
    return v;
  }
}
