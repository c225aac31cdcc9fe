/**
 * The subcommands of the `ancestryd` binary, described once for the CLI's
 * help (cli.ts) and the generated reference (docs/options.md, README).
 */
export interface CliCommand {
  readonly usage: string;
  readonly summary: string;
}

export const CLI_COMMANDS: readonly CliCommand[] = [
  { usage: 'ancestryd run [--config PATH] [--<option>=<value> …]', summary: 'Run the daemon (what the systemd unit starts). The configuration is validated completely before anything starts; `ancestryd run --help` lists the options.' },
  { usage: 'ancestryd config [--running] [--config PATH] [--<option>=<value> …] [--json]', summary: 'Validate the configuration and print every option with its value and where it came from (default, preset, file, env, flag). --running asks the running daemon instead: also "remote" (config_plugin=tls: from the TLS server) and the changes that wait for a restart. Exit 2 when invalid.' },
  { usage: 'ancestryd check [--compliance [--unit PATH]] [--config PATH] [--<option>=<value> …] [--json]', summary: 'Run the preflight checks locally (privileges, libbpf, kernel BTF, BPF ring buffer, BPF object, tracefs), or with --compliance the host\'s controls (config file, BPF object and secret file ownership and modes, directories, TLS verification, metrics bind address, ancestry settings, the BPF pins, the kernel features in use and their cost, the installed unit\'s sandbox and MemoryMax): ✓/✗ with the detail and the fix. Exit 4 when a check fails.' },
  { usage: 'ancestryd unpin [--config PATH] [--<option>=<value> …]', summary: 'Remove the pinned BPF programs, links and maps under bpf_pin_path (bpf_pin): the programs detach. Refused while the daemon runs. For uninstalling; a restart or upgrade needs no unpin.' },
  { usage: 'ancestryd ancestry <pid> [--json]', summary: 'The live lineage of a process now: the process, its ancestors nearest first, whether the lineage is complete, and the current parent when it was reparented.' },
  { usage: 'ancestryd tree [pid] [--json]', summary: 'The live process tree, from pid (default 1), as an ASCII tree.' },
  { usage: 'ancestryd stats [--json]', summary: 'Ancestry cache and pipeline figures: cache_hits, cache_misses, cache_size (as the old process_ancestry_cache_stats table), hit rate, events, ring, outputs.' },
  { usage: 'ancestryd events [--pid N] [--limit K]', summary: 'Recent events from the daemon\'s in-memory ring (admin_recent_events), oldest first, one JSON object per line.' },
];

/** Options every client subcommand (ancestry, tree, stats, events) takes. */
export const CLIENT_OPTIONS_HELP = '--admin_socket PATH (default: admin_socket from the config file, else /run/ancestryd/admin.sock), '
  + '--config PATH (where to find admin_socket), --timeout MS (default 10000)';
