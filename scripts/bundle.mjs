// Builds the `zooraft` command from the tsc output:
//  - dist/zooraft-main.cjs: the program (dist/src/cli/main.js) and its dependencies in one
//    CommonJS file. One file loads faster than ~70 modules, and CommonJS spares Node its ES
//    module loader; start-up time is one of the things users compare us on (bench/README.md).
//  - dist/zooraft.cjs: the command itself (src/cli/launch.cts), which loads the program with
//    V8's code cache, dist/zooraft-main.code-cache.
//  - the code cache, made by starting one server on a free port with a throw-away data folder
//    and ZOORAFT_WRITE_CODE_CACHE=1: the command writes the cache once that server serves.
import { build } from 'esbuild';
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
  // Without comments and spaces the file is a third smaller, and a start reads and hashes it in
  // ~3 ms less. Names are kept, so stack traces still name functions; the map gives lines.
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
  const child = spawn(process.execPath, [COMMAND, 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  try {
    const deadline = Date.now() + TRAINING_TIMEOUT_MS;
    while (!fs.existsSync(CACHE)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server started to make the code cache exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`the server started to make the code cache wrote none within ${TRAINING_TIMEOUT_MS} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
