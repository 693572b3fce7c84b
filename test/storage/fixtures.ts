// Shared test fixtures for storage tests: a fresh temp directory per test, a logger that
// records its lines, entry builders and a seeded PRNG (tests never use Math.random).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { ExecutionContext } from 'ava';
import type { LogEntry } from '../../src/storage/wal.js';
import { mulberry32 } from '../../src/platform/prng.js';

/** Seeded randomness for damage tests (see src/platform/prng.ts). */
export const prng = mulberry32;

/** A fresh directory, removed when the test ends. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zooraft-storage-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface CapturedLog {
  log: Logger;
  lines: Array<{ level: number; msg: string } & Record<string, unknown>>;
}

/** A pino logger whose output is parsed into `lines` (synchronously, so tests can assert right away). */
export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const stream = { write: (s: string): void => void lines.push(JSON.parse(s) as CapturedLog['lines'][number]) };
  return { log: pino({ level: 'debug' }, stream), lines };
}

export function entry(index: number, term = 1, data: string = `entry-${index}`): LogEntry {
  return { index, term, data: Buffer.from(data) };
}

export function entries(from: number, to: number, term = 1): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** Index, term and payload text, for readable deepEqual failures. */
export function summary(list: readonly LogEntry[]): string[] {
  return list.map((e) => `${e.index}/${e.term}/${e.data.toString()}`);
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('wal-')).sort();
}

