/**
 * Signals that reach `ancestryd run` while it starts, held until it is
 * ready. Start-up (module loading, preflight, the BPF load, the /proc
 * bootstrap) takes from a few hundred ms to seconds; without a handler a
 * SIGHUP in that window killed the daemon with status 129, leaving its
 * pidfile and socket behind, and systemd did not restart it (issue 10).
 *
 * Importing this module installs the handlers when the command is `run`:
 * main.ts imports it before anything else, so the window left is Node's own
 * bootstrap. The daemon then takes what arrived: a SIGHUP is applied once
 * ready, SIGTERM/SIGINT stop it as soon as it is.
 */
export interface EarlySignals {
  /** A SIGHUP arrived: reload once ready. */
  hup: boolean;
  /** SIGTERM or SIGINT arrived: stop once started. */
  stop: NodeJS.Signals | null;
}

const seen: EarlySignals = { hup: false, stop: null };
const onHup = (): void => {
  seen.hup = true;
};
const onStop = (signal: NodeJS.Signals): void => {
  seen.stop ??= signal;
};
let installed = false;

export function catchEarlySignals(): void {
  if (installed) return;
  installed = true;
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
}

/** What arrived so far; the handlers stay until releaseEarlySignals(). */
export function earlySignals(): Readonly<EarlySignals> {
  return seen;
}

/** The daemon's own handlers are in place: stop holding signals. */
export function releaseEarlySignals(): void {
  if (!installed) return;
  installed = false;
  process.off('SIGHUP', onHup);
  process.off('SIGTERM', onStop);
  process.off('SIGINT', onStop);
}

if (process.argv[2] === 'run') catchEarlySignals();
