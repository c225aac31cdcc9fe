/**
 * Node.js flags the daemon runs with: `node <flags> main.js run`. This list
 * is the spec, and nothing in src reads it: node takes its flags before any
 * of our code runs, so the Makefile's run target, the systemd unit and the
 * Ansible role pass them literally. test/daemon/deploy.test.ts checks the
 * Makefile and the unit carry every one, test/e2e/ansible.test.ts the role;
 * the test harnesses start the daemon with this list.
 *
 * --max-semi-space-size=2 (MB): V8 grows the young generation to 16 MB
 *   semi-spaces under a burst of short-lived garbage (the /proc bootstrap of
 *   10 000 processes, a fork storm) and keeps them: 60 MB of RSS that the
 *   daemon never needs again (162.9 → 100.9 MB with 10 000 processes read
 *   at start). Exec lines no longer live on the heap, so scavenges stay
 *   cheap: daemon CPU per exec at 2000 exec/s did not move (38.6/38.4 vs
 *   35.7/41.5 µs, side by side).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
