// Small durable-I/O helpers shared by the log, snapshots and hard state.
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSync } from 'node:fs';

/** Writes all of buf at position, looping over short writes. */
export async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} bytes`);
    done += bytesWritten;
  }
}

export function writeAllSync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const written = writeSync(fd, buf, done, buf.length - done, position + done);
    if (written <= 0) throw new Error(`write returned ${written} bytes`);
    done += written;
  }
}

/** Makes file creations, renames and deletions in dir durable (POSIX needs the directory fsynced). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

let tempCounter = 0;

/** A temp name next to `name` that no other writer in this process uses. */
export function tempName(name: string): string {
  tempCounter += 1;
  return `${name}.tmp-${process.pid}-${tempCounter}`;
}

export function isTempName(name: string): boolean {
  return /\.tmp-\d+-\d+$/.test(name);
}

/**
 * Replaces dir/name with data so that a crash leaves either the old or the new content:
 * write a temp file, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array, fsync: boolean): Promise<void> {
  const tmp = join(dir, tempName(name));
  const fh = await open(tmp, 'wx');
  try {
    await writeAll(fh, data, 0);
    if (fsync) await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, join(dir, name));
  if (fsync) await fsyncDir(dir);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}
