/**
 * The prom-client classes the daemon uses, loaded from their own modules.
 *
 * prom-client's index also loads its default metrics and its Pushgateway,
 * which pull in @opentelemetry/api, http and https: 21 MB of RSS measured
 * on Node 24 (prom-client alone: 63 MB for a bare node of 42 MB; these
 * classes: 45 MB), a quarter of the daemon's memory budget. The types come
 * from the package's own declarations.
 */
type PromClient = typeof import('prom-client');

export const { Counter, Gauge } = {
  Counter: require('prom-client/lib/counter') as PromClient['Counter'],
  Gauge: require('prom-client/lib/gauge') as PromClient['Gauge'],
};
export const Registry = require('prom-client/lib/registry') as PromClient['Registry'];
export type Registry = import('prom-client').Registry;
export type Counter<T extends string = string> = import('prom-client').Counter<T>;
export type Gauge<T extends string = string> = import('prom-client').Gauge<T>;
