// The real `zooraft` command (dist/zooraft.cjs, what npx runs): help texts and configuration exit codes.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MAIN = path.resolve('dist/zooraft.cjs');

function run(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20000, cwd: cwd ?? process.cwd() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const START_OPTIONS = ['--config', '--port', '--host', '--data-dir', '--data-log-dir', '--tick-time', '--four-letter-words', '--set'];

test('zooraft --help names both commands and every start option', (t) => {
  const r = run(['--help']);
  t.is(r.status, 0);
  for (const word of ['start', 'four-letter', ...START_OPTIONS]) t.true(r.stdout.includes(word), word);
});

test('zooraft start --help explains every option with its zoo.cfg key', (t) => {
  const r = run(['start', '--help']);
  t.is(r.status, 0);
  for (const option of START_OPTIONS) t.true(r.stdout.includes(option), option);
  // Help is wrapped to the terminal width, possibly inside words: compare without whitespace.
  const flat = r.stdout.replace(/\s+/g, '');
  for (const key of ['clientPort', 'clientPortAddress', 'dataDir', 'dataLogDir', 'tickTime', '4lw.commands.whitelist']) {
    t.true(flat.includes(`zoo.cfg:${key}`), key);
  }
  t.true(flat.includes('Default:2181'));
});

test('zooraft four-letter --help', (t) => {
  const r = run(['four-letter', '--help']);
  t.is(r.status, 0);
  for (const option of ['--host', '--port', '--timeout', 'mntr']) t.true(r.stdout.includes(option), option);
});

test('start --config bad.cfg exits 2 with the key, value, cause and fix', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zooraft-cli-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'bad.cfg');
  fs.writeFileSync(cfg, `tickTime=abc\ndataDir=${dir}/data\nclientPort=2181\n`);
  const r = run(['start', '--config', 'bad.cfg'], dir);
  t.is(r.status, 2);
  t.is(r.stderr, `zooraft: configuration error: tickTime=abc in ${cfg}: not a whole number of milliseconds; set tickTime=2000\n`);
  t.is(r.stdout, '');
});

test('start with a bad flag or --set exits 2', (t) => {
  const port = run(['start', '--port', 'http']);
  t.is(port.status, 2);
  t.regex(port.stderr, /clientPort=http in --port: not a TCP port number; use --port 2181/);
  const set = run(['start', '--set', 'jute.maxbuffer']);
  t.is(set.status, 2);
  t.regex(set.stderr, /--set jute\.maxbuffer: expected key=value/);
});

test('unknown commands and options exit 2', (t) => {
  t.is(run(['stop']).status, 2);
  t.is(run(['start', '--prot', '2181']).status, 2);
  t.is(run([]).status, 2);
});
