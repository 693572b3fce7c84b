// The `zooraft` program (bundled as dist/zooraft-main.cjs, which the command dist/zooraft.cjs
// loads, src/cli/launch.cts): `start` runs a server from a zoo.cfg and/or flags; `four-letter`
// asks a running server (or a real ZooKeeper) a four-letter word, like `echo ruok | nc host 2181`.
// Exit codes: 0 clean stop, 1 start-up or runtime failure, 2 bad configuration or usage.
import * as fs from 'node:fs';
import * as net from 'node:net';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { Logger } from '../platform/log.js';
import { createLogger } from '../platform/log.js';
import { capHeapGrowth, setHeapGrowingPercent } from '../platform/heap-growth.js';
import { FOUR_LETTER_WORDS, STMK_ARGUMENT_BYTES } from '../server/four-letter.js';
import { ConfigError, buildConfig } from './zoocfg.js';
import { VERSION } from '../version.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const HEAP_GROWING_PERCENT = 50;
const LOW_MEMORY_HEAP_GROWING_PERCENT = 20;
const HEAP_CAP_FROM_BYTES = 128 * 2 ** 20;

interface StartArgs {
  config?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  'data-dir'?: string | undefined;
  'data-log-dir'?: string | undefined;
  'tick-time'?: string | undefined;
  'four-letter-words'?: string | undefined;
  'low-memory'?: boolean | undefined;
  set?: string[] | undefined;
}

/** Flag -> the zoo.cfg key it sets. */
const FLAG_KEYS: ReadonlyArray<readonly [keyof StartArgs, string]> = [
  ['port', 'clientPort'], ['host', 'clientPortAddress'], ['data-dir', 'dataDir'],
  ['data-log-dir', 'dataLogDir'], ['tick-time', 'tickTime'], ['four-letter-words', '4lw.commands.whitelist'],
];

/** `--set key=value` entries, then the dedicated flags (which win). */
function overridesFromArgs(args: StartArgs): { overrides: Record<string, string>; overrideFlags: Record<string, string> } {
  const overrides: Record<string, string> = {};
  const overrideFlags: Record<string, string> = {};
  for (const entry of args.set ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${entry}: expected key=value; write for example --set jute.maxbuffer=4194304`);
    overrides[entry.slice(0, eq).trim()] = entry.slice(eq + 1);
  }
  for (const [flag, key] of FLAG_KEYS) {
    const value = args[flag];
    if (typeof value === 'string') {
      overrides[key] = value;
      overrideFlags[key] = `--${flag}`;
    }
  }
  return { overrides, overrideFlags };
}

/**
 * Set by the launcher (src/cli/launch.cts) while the build runs a server to make the code
 * cache: V8 refuses a cache made under other flags, so that server leaves V8's flags alone.
 */
export const startupHooks = { makingCodeCache: false };

/**
 * Caps how far V8 lets the old generation grow past what is live: 50 %, where V8 lets a small
 * heap grow 2-4x. The znodes live outside the V8 heap, which holds a few MiB of live objects,
 * and the cap keeps ~25 MiB of RSS that the default would take under load, at no measured
 * throughput cost (bench/README.md, "Node's flags"). Set here, after start-up, rather than on
 * node's command line: a V8 flag given there makes Node refuse its own compiled code for its
 * built-in modules, which made start-up ~25 ms slower. --low-memory: 20 % once the heap passes
 * 128 MiB. A --heap-growing-percent the user gave node is left alone.
 */
function limitHeapGrowth(lowMemory: boolean, log: Logger): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return;
  setHeapGrowingPercent(HEAP_GROWING_PERCENT);
  if (!lowMemory) return;
  capHeapGrowth({ percent: LOW_MEMORY_HEAP_GROWING_PERCENT, basePercent: HEAP_GROWING_PERCENT, fromBytes: HEAP_CAP_FROM_BYTES, log });
  log.info({ heapGrowingPercent: LOW_MEMORY_HEAP_GROWING_PERCENT }, 'low-memory mode: a large heap grows by at most 20 % between full collections');
}

async function runStart(args: StartArgs): Promise<void> {
  let log: Logger | undefined;
  try {
    const { overrides, overrideFlags } = overridesFromArgs(args);
    const cfg = args.config !== undefined ? { cfgFile: args.config } : {};
    const { config, warnings } = buildConfig({ ...cfg, overrides, overrideFlags, cwd: process.cwd() });
    log = createLogger();
    for (const warning of warnings) log.warn(warning);
    // Loaded on demand so that --help and four-letter work without the server modules.
    const { startServer } = await import('../server/index.js');
    const server = await startServer(config, log);
    log.info({ port: server.port, host: config.clientPortAddress, dataDir: config.dataDir }, 'zooraft started');
    if (!startupHooks.makingCodeCache) limitHeapGrowth(args['low-memory'] === true, log);
    installShutdown(server, log);
  } catch (err) {
    exitOnStartError(err, args, log);
  }
}

function installShutdown(server: { close(): Promise<void> }, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function exitOnStartError(err: unknown, args: StartArgs, log: Logger | undefined): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`zooraft: configuration error: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  let message: string;
  if (e.code === 'EADDRINUSE') {
    message = `port ${e.port ?? args.port ?? ''} is already in use (another zooraft or ZooKeeper?); stop it or choose another port with --port`;
  } else if (e.code === 'EACCES') {
    message = `not allowed to listen on port ${e.port ?? args.port ?? ''}; use a port above 1023 with --port`;
  } else if (e.code === 'EADDRNOTAVAIL') {
    message = `address ${e.address ?? args.host ?? ''} is not an address of this machine; choose another with --host`;
  } else {
    message = e instanceof Error ? e.message : String(err);
  }
  log?.error({ err }, 'start-up failed');
  process.stderr.write(`zooraft: cannot start: ${message}\n`);
  process.exit(EXIT_FAILURE);
}

interface FourLetterArgs {
  word: string;
  host: string;
  port: number;
  mask?: string | undefined;
  timeout: number;
}

/** Sends a four-letter word and resolves with everything the server writes before closing. */
function askFourLetterWord(host: string, port: number, word: string, timeoutMs: number, mask?: bigint): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port }, () => {
      const out = Buffer.alloc(4 + (mask !== undefined ? STMK_ARGUMENT_BYTES : 0));
      out.write(word, 0, 'latin1');
      if (mask !== undefined) out.writeBigInt64BE(mask, 4);
      socket.write(out);
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no complete answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', (hadError) => { if (!hadError) resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

async function runFourLetter(args: FourLetterArgs): Promise<void> {
  if (args.word.length !== 4) {
    process.stderr.write(`zooraft: "${args.word}" is not four letters; known words: ${[...FOUR_LETTER_WORDS].join(' ')}\n`);
    process.exit(EXIT_USAGE);
  }
  let mask: bigint | undefined;
  if (args.word === 'stmk') {
    if (args.mask === undefined || !/^\d+$/.test(args.mask)) {
      process.stderr.write('zooraft: stmk needs --mask N (the new trace mask, a whole number)\n');
      process.exit(EXIT_USAGE);
    }
    mask = BigInt(args.mask);
  }
  try {
    const answer = await askFourLetterWord(args.host, args.port, args.word, args.timeout, mask);
    process.stdout.write(answer.endsWith('\n') || answer === '' ? answer : `${answer}\n`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ECONNREFUSED' ? ' (is a server running there? check --host and --port)' : '';
    process.stderr.write(`zooraft: ${args.word} to ${args.host}:${args.port} failed: ${e.message}${hint}\n`);
    process.exit(EXIT_FAILURE);
  }
}

const START_EPILOG = `Configuration comes from, in increasing priority: built-in defaults, the zoo.cfg
given with --config, --set key=value, then the dedicated flags above. With no
--config zooraft runs standalone on 127.0.0.1:2181 with its data in ./data; with
a zoo.cfg it needs tickTime, dataDir and clientPort and, like ZooKeeper, listens
on all interfaces unless clientPortAddress says otherwise.

Ensemble: list every member as server.N=host:quorumPort:electionPort in each
member's zoo.cfg and write N into <dataDir>/myid, as for ZooKeeper. Members
replicate with Raft over quorumPort (the election port is not used); srvr shows
Mode: leader or follower once a leader is elected.

Keys --set accepts (zoo.cfg names): tickTime dataDir dataLogDir clientPort
clientPortAddress maxClientCnxns minSessionTimeout maxSessionTimeout snapCount
autopurge.snapRetainCount autopurge.purgeInterval 4lw.commands.whitelist
jute.maxbuffer forceSync globalOutstandingLimit skipACL extendedTypesEnabled
DigestAuthenticationProvider.superDigest znode.container.checkIntervalMs
znode.container.maxPerMinute znode.container.maxNeverUsedIntervalMs server.N
initLimit syncLimit (each also with a "zookeeper." prefix). Other ZooKeeper
keys (secureClientPort, admin.*, ...) are reported as not supported yet.

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 start-up failure, 2 bad configuration.`;

const TOP_EPILOG = `A ZooKeeper-compatible coordination service: stock ZooKeeper clients connect to it unchanged.

Options of "zooraft start" (details: zooraft start --help):
  --config FILE            a ZooKeeper zoo.cfg to read (default: none, built-in defaults)
  --port N                 client port, zoo.cfg clientPort (default 2181)
  --host ADDR              listen address, zoo.cfg clientPortAddress (default 127.0.0.1)
  --data-dir DIR           snapshots and log, zoo.cfg dataDir (default ./data)
  --data-log-dir DIR       write-ahead log, zoo.cfg dataLogDir (default: the data dir)
  --tick-time MS           base time unit, zoo.cfg tickTime (default 2000)
  --four-letter-words LIST words answered, zoo.cfg 4lw.commands.whitelist (default srvr)
  --set KEY=VALUE          any other zoo.cfg key, repeatable`;

async function main(argv: string[]): Promise<void> {
  const version = VERSION.own;
  // The commands are run here, after parsing, rather than as yargs command handlers: after a
  // handler yargs renders the whole help text to keep for later, ~3 ms of every start.
  const parsed = await yargs(argv)
    .scriptName('zooraft')
    .usage('$0 <command> [options]')
    .command('start', 'Run a server in the foreground (Ctrl-C or SIGTERM stops it).', (y) => y
      .usage('$0 start [--config zoo.cfg] [options]\n\nRun a zooraft server in the foreground.')
      .option('config', { alias: 'c', type: 'string', describe: 'Path to a ZooKeeper zoo.cfg file. Default: none (built-in defaults).' })
      .option('port', { alias: 'p', type: 'string', describe: 'TCP port clients connect to; 0 picks a free port. zoo.cfg: clientPort. Default: 2181.' })
      .option('host', { type: 'string', describe: 'Address to listen on (0.0.0.0 = all interfaces). zoo.cfg: clientPortAddress. Default: 127.0.0.1 without --config, all interfaces with one.' })
      .option('data-dir', { type: 'string', describe: 'Directory for snapshots (and the log unless --data-log-dir); relative paths start from the current directory. zoo.cfg: dataDir. Default: ./data.' })
      .option('data-log-dir', { type: 'string', describe: 'Separate directory for the write-ahead log (put it on a fast disk). zoo.cfg: dataLogDir. Default: the data dir.' })
      .option('tick-time', { type: 'string', describe: 'Base time unit in ms; session timeouts default to 2x..20x this. zoo.cfg: tickTime. Default: 2000.' })
      .option('four-letter-words', { type: 'string', describe: 'Comma-separated four-letter words to answer (ruok,srvr,stat,mntr,conf,envi,cons,isro,dump,wchs,wchc,wchp,dirs,crst,srst,gtmk,stmk), or * for all. zoo.cfg: 4lw.commands.whitelist. Default: srvr.' })
      .option('low-memory', { type: 'boolean', describe: 'Once the JavaScript heap passes 128 MiB, let it grow by at most 20% between full garbage collections (default 50%): less memory, more CPU. Znodes and small values are kept outside this heap either way. Default: off.' })
      .option('set', { type: 'string', array: true, requiresArg: true, describe: 'Any zoo.cfg key as key=value, repeatable: --set extendedTypesEnabled=true --set jute.maxbuffer=4194304. Overrides the file.' })
      .example('$0 start', 'standalone on 127.0.0.1:2181, data in ./data')
      .example('$0 start --config /etc/zookeeper/conf/zoo.cfg', 'use an existing ZooKeeper configuration')
      .example('$0 start --port 2182 --data-dir /tmp/zr --four-letter-words "*"', 'a throw-away server answering every four-letter word')
      .example('$0 start --config zoo.cfg', 'an ensemble member, when zoo.cfg has server.1..server.N lines and dataDir/myid holds N')
      .epilog(START_EPILOG))
    .command('four-letter <word>', 'Ask a server a four-letter word (ruok, srvr, mntr, ...), like `echo ruok | nc localhost 2181`.', (y) => y
      .positional('word', { type: 'string', demandOption: true, describe: `One of: ${[...FOUR_LETTER_WORDS].join(' ')}. The server must have it in 4lw.commands.whitelist.` })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Server address.' })
      .option('port', { alias: 'p', type: 'number', default: 2181, describe: 'Server client port.' })
      .option('mask', { type: 'string', describe: 'For stmk only: the new trace mask (a whole number).' })
      .option('timeout', { type: 'number', default: 5000, describe: 'Give up after this many ms.' })
      .example('$0 four-letter ruok', 'prints imok if the server is up')
      .example('$0 four-letter mntr --port 2182', 'monitoring variables, tab separated'))
    .demandCommand(1, 'Name a command: start or four-letter (see --help).')
    .recommendCommands()
    .strict()
    .version(version)
    .help()
    .alias('help', 'h')
    .epilog(`${TOP_EPILOG}\n\nzooraft ${version} implements ZooKeeper 3.8's client protocol.`)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err !== undefined && err !== null) throw err;
      process.stderr.write(`zooraft: ${msg}\nRun "zooraft --help" for usage.\n`);
      process.exit(EXIT_USAGE);
    })
    .parseAsync();
  const [command] = parsed._;
  if (command === 'start') await runStart(parsed as StartArgs);
  else if (command === 'four-letter') await runFourLetter(parsed as unknown as FourLetterArgs);
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`zooraft: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT_FAILURE);
});
