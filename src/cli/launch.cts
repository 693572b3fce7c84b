#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --v8-pool-size=1
// The `zooraft` command (dist/zooraft.cjs): loads the bundled program, dist/zooraft-main.cjs,
// with V8's code cache for it. Start-up time is one of the things users compare us on
// (bench/README.md, "start-up"), and compiling the ~470 KB bundle plus the functions a start
// runs took ~25 ms of a ~100 ms start; with the cache V8 reads the compiled code instead.
//
// The cache (dist/zooraft-main.code-cache) is made by the build: scripts/bundle.mjs starts one
// server with ZOORAFT_WRITE_CODE_CACHE=1, has a client connect and make a few requests, then
// sends SIGUSR2, on which this file writes the cache: it holds every function a start and a
// first client compile. V8 checks the cache against its own
// version and flags and ignores one that does not fit (after a Node upgrade, or with V8 flags
// in NODE_OPTIONS), or one cut short: the bundle is then compiled as usual. V8 checks the source
// only by its length, so the cache also names the build it was made from. Its bytes are not
// checksummed (a release V8 does not, and doing it here costs 2-3 ms of every start): like the
// bundle and node itself, it is part of the installed program, written once by the build and
// renamed into place whole.
//
// CommonJS on purpose: Node starts a CommonJS file without loading its ES module machinery.
//
// The #! line: one V8 helper thread, not V8's default of several, which would only contend with
// the server for the cores (bench/README.md, "Node's flags"). It also drops
// NODE_EXTRA_CA_CERTS: with it set, Node parses that whole certificate file before running any
// JavaScript (~50 ms for Debian's bundle on our benchmark machine), and zooraft makes no TLS
// connection that would trust those certificates (TLS support, when it comes, must revisit this).
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

/** What dist/zooraft-main.cjs exports (src/cli/main.ts). */
interface MainExports {
  startupHooks: { makingCodeCache: boolean };
}

const MAIN_FILE = path.join(__dirname, 'zooraft-main.cjs');
const CACHE_FILE = path.join(__dirname, 'zooraft-main.code-cache');
const WRITE_CACHE_ENV = 'ZOORAFT_WRITE_CODE_CACHE';
/** The bundle's first line: `// zooraft build <id>`, a fresh id per build (scripts/bundle.mjs). */
const BUILD_LINE = /^\/\/ zooraft build (\S+)\n/;
const CACHE_MAGIC = 'zooraft code cache for build ';

function cacheHeader(buildId: string): Buffer {
  return Buffer.from(`${CACHE_MAGIC}${buildId}\n`, 'latin1');
}

/** The cached code for this build, or undefined when there is none or it is another build's. */
function readCache(buildId: string | undefined): Buffer | undefined {
  if (buildId === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(CACHE_FILE);
  } catch {
    return undefined;
  }
  const header = cacheHeader(buildId);
  return bytes.subarray(0, header.length).equals(header) ? bytes.subarray(header.length) : undefined;
}

// ASCII only (the build checks): latin1 reads it faster than UTF-8.
const source = fs.readFileSync(MAIN_FILE, 'latin1');
const buildId = BUILD_LINE.exec(source)?.[1];
const cachedData = readCache(buildId);
const script = new vm.Script(nodeModule.wrap(source), { filename: MAIN_FILE, ...(cachedData !== undefined ? { cachedData } : {}) });
const moduleFunction = script.runInThisContext() as (exports: unknown, req: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
const mainModule = { exports: {} as MainExports };
moduleFunction.call(mainModule.exports, mainModule.exports, require, mainModule, MAIN_FILE, __dirname);

if (process.env[WRITE_CACHE_ENV] === '1') {
  if (buildId === undefined) throw new Error(`${MAIN_FILE} has no "// zooraft build" first line; rebuild with npm run build`);
  mainModule.exports.startupHooks.makingCodeCache = true;
  // Written aside and renamed, so that the build never sees half a cache.
  process.once('SIGUSR2', () => {
    fs.writeFileSync(`${CACHE_FILE}.tmp`, Buffer.concat([cacheHeader(buildId), script.createCachedData()]));
    fs.renameSync(`${CACHE_FILE}.tmp`, CACHE_FILE);
  });
}
