/**
 * The `ancestryd` command line (commander): `run` validates the
 * configuration and hands it to the daemon function main.ts injects;
 * `config` and `check` work locally; `ancestry`, `tree`, `stats` and
 * `events` ask the running daemon over its admin socket. Every outcome maps
 * to one exit code of exit-codes.ts. Nothing here calls process.exit: the
 * caller sets process.exitCode from the returned code.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadNative } from '../../collector/libbpf';
import { unpinAll } from '../../collector/pins';
import { runPreflight, type PreflightCheck, type PreflightOptions } from '../../collector/preflight';
import { AncestrydError } from '../../errors';
import { adminRequest } from '../admin/admin-client';
import { EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT } from '../admin/admin-protocol';
import { CLI_COMMANDS } from './cli-commands';
import { effectiveOptions, loadConfig, type AncestrydConfig } from '../config/config';
import { CONFIG_ENV, CONFIG_FLAG, DEFAULT_CONFIG_PATH, readConfigFile } from '../config/config-sources';
import { EXIT, EXIT_CODE_TABLE, exitCodeFor, type ExitCode } from '../exit-codes';
import { defaultValue, envName, OPTIONS, REAL_HOST, SYSTEM_ADMIN_SOCKET } from '../config/option-schema';
import { OptionValueError, type HostFacts, type OptionValue } from '../config/option-types';
import { renderOptionsHelp } from '../config/options-doc';
import { complianceChecks, INSTALLED_UNIT } from './compliance';
import { packageInfo } from '../package-info';
import { acquirePidfile } from '../pidfile';
import {
  jsonForTerminal, renderAncestry, renderJsonLines, renderKeyValues, renderOptions, renderPreflight, renderTree,
} from './render';

interface Out {
  write(s: string): unknown;
}

export interface CliDeps {
  /**
   * The daemon. Called with the validated configuration; resolves when the
   * daemon stopped cleanly (exit 0), rejects with the error that stopped it
   * (exit code by its AncestrydError code).
   */
  run(config: AncestrydConfig): Promise<void>;
  /** Defaults: process.stdout, process.stderr, process.env, this host, runPreflight. */
  stdout?: Out;
  stderr?: Out;
  env?: NodeJS.ProcessEnv;
  host?: HostFacts;
  preflight?: (opts: PreflightOptions) => PreflightCheck[];
}

/** Pulls boolean switches (--json) out of raw option tokens before they reach the config parser. */
function takeSwitch(args: string[], name: string): boolean {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

/** Removes `--name=value` or `--name value` from args; the value, or null when absent. */
function takeValue(args: string[], name: string): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`--${name}=`)) return args.splice(i, 1)[0].slice(name.length + 3);
    if (args[i] === `--${name}` && i + 1 < args.length) return args.splice(i, 2)[1];
  }
  return null;
}

function positiveInt(what: string, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new InvalidArgumentError(`${what}: expected an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

interface ClientOpts {
  json?: boolean;
  admin_socket?: string;
  config?: string;
  timeout?: number;
}

/**
 * --admin_socket, else ANCESTRYD_ADMIN_SOCKET, else the config file's
 * admin_socket, else the system socket when /run/ancestryd exists (a user
 * who is not root then gets EACCES, "run this as root", rather than a
 * missing ./var/run socket), else the daemon's own default.
 */
export function resolveAdminSocket(o: ClientOpts, env: NodeJS.ProcessEnv, host: HostFacts): string {
  const spec = OPTIONS.admin_socket;
  const parse = (raw: unknown, where: string): string => {
    try {
      return spec.parse(raw, { name: 'admin_socket', host });
    } catch (err) {
      if (err instanceof OptionValueError) throw new AncestrydError('ANC_CONFIG_INVALID', `${err.message} (from ${where})`);
      throw err;
    }
  };
  let path: string | undefined;
  if (o.admin_socket !== undefined) path = parse(o.admin_socket, '--admin_socket');
  else if (env[envName('admin_socket')] !== undefined) path = parse(env[envName('admin_socket')], envName('admin_socket'));
  else {
    const given = o.config ?? env[CONFIG_ENV];
    if (given !== '') {
      const file = readConfigFile(given ?? DEFAULT_CONFIG_PATH, given !== undefined);
      if (file.problems.length > 0 && given !== undefined) throw new AncestrydError('ANC_CONFIG_INVALID', file.problems.join('\n'));
      const raw = file.values.get('admin_socket');
      if (raw !== undefined) path = parse(raw.raw, raw.where);
    }
  }
  if (path === undefined) {
    path = existsSync(dirname(SYSTEM_ADMIN_SOCKET)) ? SYSTEM_ADMIN_SOCKET : defaultValue('admin_socket', host) as string;
  }
  if (path === '') throw new AncestrydError('ANC_CONFIG_INVALID', 'admin_socket is "" (disabled): the daemon has no admin API to ask');
  return path;
}

function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print the daemon\'s answer as JSON')
    .option('--admin_socket <path>', 'the daemon\'s admin socket')
    .option(`--${CONFIG_FLAG} <path>`, 'config file to read admin_socket from')
    .addOption(new Option('--timeout <ms>', 'request timeout').default(10_000).argParser(positiveInt('--timeout', 600_000)));
}

/**
 * Runs one `ancestryd` invocation. `argv` excludes node and the script
 * (process.argv.slice(2)). Returns the exit code.
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const env = deps.env ?? process.env;
  const host = deps.host ?? REAL_HOST;
  const preflight = deps.preflight ?? runPreflight;
  let code: ExitCode = EXIT.OK;

  const program = new Command('ancestryd');
  program
    .description('eBPF process-ancestry daemon: every exec with its full, correct lineage, to Kafka, osquery TLS or files')
    .version(packageInfo().version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nExit codes:\n' + EXIT_CODE_TABLE.map((e) => `  ${e.code}  ${e.meaning}`).join('\n') + '\n');

  const summary = (usagePrefix: string) => CLI_COMMANDS.find((c) => c.usage.startsWith(usagePrefix))?.summary ?? '';
  const loadFrom = (args: string[]) => loadConfig({ argv: args, env, host });

  program.command('run')
    .description(summary('ancestryd run'))
    .usage('[--config PATH] [--<option>=<value> …]')
    .allowUnknownOption().allowExcessArguments()
    .addHelpText('after', renderOptionsHelp())
    .action(async (_o, cmd: Command) => {
      const config = loadFrom([...cmd.args]);
      await deps.run(config);
    });

  program.command('config')
    .description(summary('ancestryd config'))
    .usage('[--running] [--config PATH] [--<option>=<value> …] [--json]')
    .allowUnknownOption().allowExcessArguments()
    .action(async (_o, cmd: Command) => {
      const args = [...cmd.args];
      const json = takeSwitch(args, 'json');
      const running = takeSwitch(args, 'running');
      const config = loadFrom(args);
      if (running) {
        // What the daemon runs with: the server's options (config_plugin=tls) exist only there.
        const socket = config.daemon.adminSocket;
        if (socket === null) throw new AncestrydError('ANC_CONFIG_INVALID', 'config --running: admin_socket is "": there is no daemon to ask');
        const res = await adminRequest(socket, 'config', {});
        if (json) stdout.write(JSON.stringify(res, null, 2) + '\n');
        else {
          stdout.write(renderOptions(res.options as { name: string; value: OptionValue; source: string }[], res.config_file));
          if (res.pending.length > 0) stdout.write(`pending (a restart applies them): ${res.pending.join(', ')}\n`);
        }
        return;
      }
      if (json) {
        stdout.write(JSON.stringify({ config_file: config.configFile, options: effectiveOptions(config), warnings: config.warnings }, null, 2) + '\n');
      } else {
        stdout.write(renderOptions(effectiveOptions(config), config.configFile));
        for (const w of config.warnings) stderr.write(`warning: ${w}\n`);
      }
    });

  program.command('check')
    .description(summary('ancestryd check'))
    .usage('[--compliance [--unit PATH]] [--config PATH] [--<option>=<value> …] [--json]')
    .allowUnknownOption().allowExcessArguments()
    .action((_o, cmd: Command) => {
      const args = [...cmd.args];
      const json = takeSwitch(args, 'json');
      const compliance = takeSwitch(args, 'compliance');
      const unitPath = takeValue(args, 'unit') ?? INSTALLED_UNIT;
      const config = loadFrom(args);
      const checks = compliance ? complianceChecks(config, { unitPath }) : preflight(config.preflight);
      const ok = checks.every((c) => c.ok);
      stdout.write(json ? JSON.stringify({ ok, checks }, null, 2) + '\n' : renderPreflight(checks));
      if (!ok) code = EXIT.PREFLIGHT_FAILED;
    });

  program.command('unpin')
    .description(summary('ancestryd unpin'))
    .usage('[--config PATH] [--<option>=<value> …]')
    .allowUnknownOption().allowExcessArguments()
    .action((_o, cmd: Command) => {
      const config = loadFrom([...cmd.args]);
      // A running daemon's programs would detach under it: refused like a second daemon.
      if (config.daemon.pidfile !== null) acquirePidfile(config.daemon.pidfile).release();
      const root = config.values.bpf_pin_path;
      const removed = unpinAll(loadNative(), root);
      stdout.write(removed.length === 0 ? `nothing pinned under ${root}\n` : removed.map((d) => `removed ${d}\n`).join(''));
    });

  addClientOptions(program.command('ancestry'))
    .description(summary('ancestryd ancestry'))
    .argument('<pid>', 'process id', positiveInt('pid', 4_194_304))
    .action(async (pid: number, o: ClientOpts) => {
      const res = await adminRequest(resolveAdminSocket(o, env, host), 'ancestry', { pid }, { timeoutMs: o.timeout });
      stdout.write(o.json ? jsonForTerminal(res, 2) + '\n' : renderAncestry(res));
    });

  addClientOptions(program.command('tree'))
    .description(summary('ancestryd tree'))
    .argument('[pid]', 'root of the tree (default 1)', positiveInt('pid', 4_194_304))
    .action(async (pid: number | undefined, o: ClientOpts) => {
      const res = await adminRequest(resolveAdminSocket(o, env, host), 'tree', pid === undefined ? {} : { pid }, { timeoutMs: o.timeout });
      stdout.write(o.json ? jsonForTerminal(res, 2) + '\n' : renderTree(res));
    });

  addClientOptions(program.command('stats'))
    .description(summary('ancestryd stats'))
    .action(async (o: ClientOpts) => {
      const res = await adminRequest(resolveAdminSocket(o, env, host), 'stats', {}, { timeoutMs: o.timeout });
      stdout.write(o.json ? jsonForTerminal(res, 2) + '\n' : renderKeyValues(res));
    });

  addClientOptions(program.command('events'))
    .description(summary('ancestryd events'))
    .addOption(new Option('--pid <pid>', 'only events of this pid').argParser(positiveInt('--pid', 4_194_304)))
    .addOption(new Option('--limit <n>', 'most events to print').default(EVENTS_DEFAULT_LIMIT).argParser(positiveInt('--limit', EVENTS_MAX_LIMIT)))
    .action(async (o: ClientOpts & { pid?: number; limit: number }) => {
      const params = o.pid === undefined ? { limit: o.limit } : { pid: o.pid, limit: o.limit };
      const res = await adminRequest(resolveAdminSocket(o, env, host), 'events', params, { timeoutMs: o.timeout });
      stdout.write(renderJsonLines(res));
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version succeed; help shown because no subcommand was given (commander.help) is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE; // commander already printed the error
    }
    stderr.write(`ancestryd: ${(err as Error)?.message ?? String(err)}\n`);
    return exitCodeFor(err);
  }
}
