// Starts a real zooraft server process on a free port with its own data folder, for tests
// that talk to it over TCP. Every process started here is stopped by stop()/kill().
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/helpers -> dist/zooraft.cjs: the zooraft command users run (npm run build makes it). */
export const CLI_PATH = path.resolve(here, '../../zooraft.cjs');

export interface ZooraftOptions {
  /** Reuse a data folder (restart tests); a fresh temp folder otherwise. */
  dataDir?: string;
  tickTimeMs?: number;
  /** Extra zoo.cfg keys, passed as --set key=value. */
  settings?: Record<string, string>;
  /** Port to bind (restart on the same port); 0 = ephemeral. */
  port?: number;
  startTimeoutMs?: number;
}

export class ZooraftProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly dataDir: string;
  readonly host = '127.0.0.1';
  readonly logLines: string[];
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, port: number, dataDir: string, logLines: string[], exited: Promise<number | null>) {
    this.child = child;
    this.port = port;
    this.dataDir = dataDir;
    this.logLines = logLines;
    this.exited = exited;
  }

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(opts: ZooraftOptions = {}): Promise<ZooraftProcess> {
    const dataDir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'zooraft-test-')));
    const args = [CLI_PATH, 'start', '--port', String(opts.port ?? 0), '--host', '127.0.0.1', '--data-dir', dataDir];
    args.push('--tick-time', String(opts.tickTimeMs ?? 200));
    for (const [k, v] of Object.entries(opts.settings ?? {})) args.push('--set', `${k}=${v}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const logLines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`zooraft did not start within ${opts.startTimeoutMs ?? 15000} ms:\n${logLines.join('\n')}`));
      }, opts.startTimeoutMs ?? 15000);
      let partial = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          logLines.push(line);
          try {
            const rec = JSON.parse(line) as { msg?: string; port?: number };
            if (rec.msg === 'serving clients' && typeof rec.port === 'number') {
              clearTimeout(timer);
              resolve(rec.port);
            }
          } catch {
            // not JSON: keep it in logLines for the failure message
          }
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`zooraft exited with ${String(code)} before serving:\n${logLines.join('\n')}`));
      });
    });
    return new ZooraftProcess(child, port, dataDir, logLines, exited);
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** kill -9: no chance to flush anything (recovery tests). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async removeData(): Promise<void> {
    await fs.rm(this.dataDir, { recursive: true, force: true });
  }
}
