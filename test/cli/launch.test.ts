// The zooraft command (dist/zooraft.cjs) and the code cache the build makes for the program it
// loads (dist/zooraft-main.cjs): the cache must fit this build and this node, or every start
// silently compiles the bundle again; a cache that does not fit must cost time, not correctness.
// (Like the bundle, the cache is a program file: its bytes are not checksummed, see launch.cts.)
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const COMMAND = path.resolve('dist/zooraft.cjs');
const MAIN = path.resolve('dist/zooraft-main.cjs');
const CACHE = path.resolve('dist/zooraft-main.code-cache');
const wrap = (createRequire(import.meta.url)('node:module') as { wrap(code: string): string }).wrap;

function splitCache(bytes: Buffer): { header: string; code: Buffer } {
  const newline = bytes.indexOf(0x0a);
  return { header: bytes.toString('latin1', 0, newline), code: bytes.subarray(newline + 1) };
}

test('the build made a code cache for this very bundle, and V8 accepts it', (t) => {
  const source = fs.readFileSync(MAIN, 'utf8');
  const buildId = /^\/\/ zooraft build ([0-9a-f]+)\n/.exec(source)?.[1];
  t.truthy(buildId, 'the bundle names its build on its first line');
  const { header, code } = splitCache(fs.readFileSync(CACHE));
  t.is(header, `zooraft code cache for build ${buildId ?? ''}`);
  const script = new vm.Script(wrap(source), { filename: MAIN, cachedData: code });
  t.false(script.cachedDataRejected);
  // Made after a whole start and a first client, not just a compile: it holds the functions they run.
  t.true(code.length > 200 * 1024, `${code.length} bytes`);
});

/** A copy of the command, the program and package.json (for --version) in a folder of its own. */
function copyOfCommand(t: { teardown(f: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zooraft-launch-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'dist'));
  for (const f of [COMMAND, MAIN, CACHE]) fs.copyFileSync(f, path.join(root, 'dist', path.basename(f)));
  fs.copyFileSync('package.json', path.join(root, 'package.json'));
  return path.join(root, 'dist');
}

function version(dist: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(dist, 'zooraft.cjs'), '--version'], { encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a cache from another build, a cut-off cache or none at all: the command still runs', (t) => {
  const dist = copyOfCommand(t);
  const cache = path.join(dist, 'zooraft-main.code-cache');
  const expected = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
  const { header, code } = splitCache(fs.readFileSync(cache));

  const otherBuild = header.replace(/[0-9a-f]$/, (d) => (d === '0' ? '1' : '0'));
  fs.writeFileSync(cache, Buffer.concat([Buffer.from(`${otherBuild}\n`), code]));
  t.deepEqual(version(dist), { status: 0, stdout: `${expected.version}\n`, stderr: '' });

  fs.writeFileSync(cache, Buffer.concat([Buffer.from(`${header}\n`), code.subarray(0, code.length >> 1)]));
  t.deepEqual(version(dist), { status: 0, stdout: `${expected.version}\n`, stderr: '' });

  fs.rmSync(cache);
  t.deepEqual(version(dist), { status: 0, stdout: `${expected.version}\n`, stderr: '' });
});

test('run as a program through its #! line, the command does not make node read NODE_EXTRA_CA_CERTS', (t) => {
  // Node warns on stderr when that file cannot be read; zooraft's #! line removes the variable.
  const missing = path.join(os.tmpdir(), `zooraft-no-such-certs-${process.pid}.pem`);
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: missing };
  const direct = spawnSync(COMMAND, ['--version'], { encoding: 'utf8', timeout: 20000, env });
  t.is(direct.status, 0);
  t.is(direct.stderr, '');
  // The check is meaningful only if node itself does read the variable.
  const plain = spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', timeout: 20000, env });
  t.regex(plain.stderr, /NODE_EXTRA_CA_CERTS|extra certs/i);
});
