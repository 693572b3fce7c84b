// Typed storage errors with stable codes, so the caller (and operators reading logs) can
// tell damaged data, misuse and failed I/O apart without parsing messages.

export type StorageErrorCode =
  // Damaged or foreign files found on disk: start-up must stop.
  | 'WAL_FOREIGN_FILE'
  | 'WAL_UNSUPPORTED_VERSION'
  | 'WAL_BAD_HEADER'
  | 'WAL_BAD_RECORD'
  | 'WAL_INDEX_GAP'
  | 'WAL_FILE_TOO_LARGE'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_TOO_LARGE'
  | 'HARD_STATE_CORRUPT'
  // Programming errors (broken invariants in the caller).
  | 'WAL_BAD_APPEND'
  | 'STORAGE_BAD_ARGUMENT'
  // The log refuses work: closed, or an earlier write/fsync failed and its state is unknown.
  | 'WAL_CLOSED'
  | 'WAL_FAILED';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** Data on disk is damaged in a way that cannot be repaired automatically. */
export class StorageCorruptionError extends StorageError {
  /** Full path of the damaged file. */
  readonly file: string;
  /** Byte offset of the damage inside the file. */
  readonly offset: number;
  constructor(code: StorageErrorCode, file: string, offset: number, problem: string, remedy: string) {
    super(code, `${file} at offset ${offset}: ${problem}. ${remedy}`);
    this.name = 'StorageCorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/** What an operator can do about a damaged log or snapshot; quoted in error messages. */
export const REMEDY_RESTORE =
  'Refusing to start so no acknowledged data is silently lost: restore this data directory from a ' +
  'healthy replica or a backup, or move the damaged file aside if losing the entries in it and ' +
  'after it is acceptable';
