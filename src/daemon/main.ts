#!/usr/bin/env node
/** The `ancestryd` binary: the CLI, whose `run` subcommand is the daemon. */
// First: holds SIGHUP/SIGTERM/SIGINT for `run` while the rest loads (early-signals.ts).
import './early-signals';
import { runCli } from './cli/cli';
import { runDaemon } from './daemon';

runCli(process.argv.slice(2), { run: runDaemon }).then((code) => {
  process.exitCode = code;
});
