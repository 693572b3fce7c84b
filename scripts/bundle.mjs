// Builds the `zooraft` command from the tsc output:
//  - dist/zooraft-main.cjs: the program (dist/src/cli/main.js) and its dependencies in one
//    CommonJS file. One file loads faster than ~70 modules, and CommonJS spares Node its ES
//    module loader; start-up time is one of the things users compare us on (bench/README.md).
//  - dist/zooraft.cjs: the command itself (src/cli/launch.cts), which loads the program with
//    V8's code cache, dist/zooraft-main.code-cache.
//  - the code cache, made by starting one server on a free port with a throw-away data folder
//    and ZOORAFT_WRITE_CODE_CACHE=1, having a stock client (node-zookeeper-client) make the
//    requests a first client makes, then sending SIGUSR2, on which the command writes it.
import { build } from 'esbuild';
import zookeeper from 'node-zookeeper-client';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAIN = 'dist/zooraft-main.cjs';
const COMMAND = 'dist/zooraft.cjs';
const CACHE = 'dist/zooraft-main.code-cache';
const TRAINING_TIMEOUT_MS = 30000;

const buildId = randomBytes(8).toString('hex');
await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: MAIN,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // The command reads the build id from this first line to match the code cache to the bundle.
  banner: { js: `// zooraft build ${buildId}\nconst zooraftModuleUrl = require('node:url').pathToFileURL(__filename).href;` },
  // Our modules (and yargs') are ES modules that find files next to themselves.
  define: { 'import.meta.url': 'zooraftModuleUrl' },
  // Without comments and spaces the file is a third smaller, and a start reads and deserializes
  // it ~3 ms faster. Names are kept, so stack traces still name functions; the map gives lines.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
});
// The command reads the bundle as latin1, a byte per character, which is faster than UTF-8 and
// right only for ASCII (esbuild escapes everything else by default).
if (/[^\x00-\x7f]/.test(fs.readFileSync(MAIN, 'latin1'))) throw new Error(`${MAIN} is not all ASCII; the command reads it as latin1`);
fs.copyFileSync('dist/src/cli/launch.cjs', COMMAND);
fs.chmodSync(COMMAND, 0o755);
fs.rmSync(CACHE, { force: true });
fs.rmSync('dist/zooraft.mjs', { force: true }); // the bundle's name before the command loaded it

await makeCodeCache();

async function makeCodeCache() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zooraft-code-cache-'));
  const env = { ...process.env, ZOORAFT_WRITE_CODE_CACHE: '1' };
  // V8 refuses a cache made under other V8 flags, and users run without any.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [COMMAND, 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const deadline = Date.now() + TRAINING_TIMEOUT_MS;
  const waitFor = async (what, found) => {
    for (;;) {
      const value = found();
      if (value !== undefined) return value;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server started to make the code cache exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${stderr}${stdout}`);
      if (Date.now() > deadline) throw new Error(`the server started to make the code cache: no ${what} within ${TRAINING_TIMEOUT_MS} ms:\n${stderr}${stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    const port = await waitFor('"zooraft started" log line', () => /"port":(\d+)[^\n]*"msg":"zooraft started"/.exec(stdout)?.[1]);
    await firstClientRequests(`127.0.0.1:${port}`);
    child.kill('SIGUSR2');
    await waitFor('code cache', () => (fs.existsSync(CACHE) ? true : undefined));
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What a first client does: a session, then create, read, change, list and delete a node. */
async function firstClientRequests(connectString) {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 10000, retries: 0 });
  const call = (method, ...args) => new Promise((resolve, reject) => client[method](...args, (err, result) => (err ? reject(err) : resolve(result))));
  await new Promise((resolve) => { client.once('connected', resolve); client.connect(); });
  try {
    await call('exists', '/');
    await call('create', '/zooraft-code-cache', Buffer.from('x'));
    await call('getData', '/zooraft-code-cache');
    await call('setData', '/zooraft-code-cache', Buffer.from('y'), -1);
    await call('getChildren', '/');
    await call('remove', '/zooraft-code-cache', -1);
  } finally {
    client.close();
  }
}
