// Runs a stock client program (python3, java, zkCli.sh, cli_mt) as a child process with a
// bounded time, and locates the tools. Used by the compat/clients/*.test.ts files.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** compat/clients in the source tree (the .py/.java files are not copied to dist/). */
export const CLIENTS_SRC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../compat/clients');

export const TOOLS = {
  /** Debian's python3 has python3-kazoo; a pyenv/venv python3 on PATH may not. */
  python3: '/usr/bin/python3',
  zkCli: '/usr/share/zookeeper/bin/zkCli.sh',
  cliMt: '/usr/lib/zookeeper/bin/cli_mt',
  java: '/usr/bin/java',
  curatorRecipesJar: '/usr/share/java/curator-recipes.jar',
  slf4jNopJar: '/usr/share/java/slf4j-nop.jar',
} as const;

/** Throws with the apt package to install when a tool is missing: these tests never skip. */
export function requireTool(file: string, aptPackage: string): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing; install it with: apt-get install ${aptPackage}`);
  return file;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd ?? CLIENTS_SRC_DIR });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timeoutMs = opts.timeoutMs ?? 45000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Drives an interactive line-based client: writes each command only after the output so far
 * matches the previous step's `until`, so no step depends on sleeping.
 */
export class Interactive {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(cmd: string, args: readonly string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const onData = (c: Buffer): void => {
      this.output += c.toString('utf8');
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.child.once('close', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get text(): string {
    return this.output;
  }

  /** Waits until the output after `from` matches re; returns the output after `from`. */
  async waitFor(re: RegExp, from = 0, timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tail = this.output.slice(from);
      if (re.test(tail)) return tail;
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) throw new Error(`no ${String(re)} in client output:\n${tail}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends one command line and waits for its output to match `until`. */
  async send(line: string, until: RegExp, timeoutMs = 10000): Promise<string> {
    const from = this.output.length;
    this.child.stdin.write(`${line}\n`);
    return this.waitFor(until, from, timeoutMs);
  }

  async close(quit = 'quit'): Promise<void> {
    if (this.exited) return;
    this.child.stdin.write(`${quit}\n`);
    this.child.stdin.end();
    const done = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}
