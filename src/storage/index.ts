// Durable storage: the Raft write-ahead log, snapshots and Raft hard state.
// Entries and snapshots are opaque bytes; nothing here knows ZooKeeper.
export { StorageCorruptionError, StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { WriteAheadLog, SEGMENT_BYTES_MAX_DEFAULT } from './wal.js';
export type { LogEntry, TornTail, WalOpenResult, WalOptions, WalStats } from './wal.js';
export { SnapshotStore } from './snapshot.js';
export type { SnapshotMeta, SnapshotStoreOptions } from './snapshot.js';
export { HardStateStore } from './hard-state.js';
export type { HardState, HardStateStoreOptions } from './hard-state.js';
