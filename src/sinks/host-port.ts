/**
 * "host:port" as the options that name a server or a listen address write it:
 * a host name or IPv4 address, or an IPv6 literal in brackets, then ":" and
 * the port. The tls output's server (tls_hostname) and the daemon's
 * metrics_address read it here, beside the sinks, which never import the
 * daemon. The Kafka brokers keep their own grammar (kafka/config.ts: no IPv6,
 * which the client cannot dial; underscores in host names) and share only
 * the port range.
 */

/** TCP ports a client may connect to or a server bind: 0 means "any" to bind(2), never a server's. */
export const PORT_RANGE = [1, 65535] as const;

export interface HostPort {
  /** An IPv6 literal without its brackets. */
  readonly host: string;
  readonly port: number;
}

const HOST_PORT_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/**
 * `s` as host and port; `defaultPort` when `s` names none (without it the
 * port is required). Null when `s` is not of that form. The port is not
 * range-checked, so that the caller can say which part is wrong: see isPort.
 */
export function parseHostPort(s: string, defaultPort?: number): HostPort | null {
  const m = HOST_PORT_RE.exec(s);
  if (m === null || (m[2] === undefined && defaultPort === undefined)) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] === undefined ? defaultPort! : Number(m[2]) };
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= PORT_RANGE[0] && n <= PORT_RANGE[1];
}
