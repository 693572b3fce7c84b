// Promise wrappers around node-zookeeper-client for integration tests. Every operation
// resolves with its result or rejects with a ZkError carrying ZooKeeper's numeric error code,
// and `codeOf` turns an operation into that code (0 = OK) so tests can assert on it directly.
// Clients opened through `connect`/`withClient` are always closed, with bounded waits.
import * as zookeeper from 'node-zookeeper-client';
import type { ACL, Client, ClientOptions, Event, Stat, TransactionResult, Watcher } from 'node-zookeeper-client';

export { zookeeper };
export type { ACL, Client, Event, Stat, TransactionResult };

export const CONNECT_TIMEOUT_MS = 10000;
const CLOSE_TIMEOUT_MS = 5000;

/** A ZooKeeper error code from the server (or a client-side one such as ConnectionLoss -4). */
export class ZkError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'ZkError';
    this.code = code;
  }
}

function toZkError(e: unknown): Error {
  if (e instanceof zookeeper.Exception) return new ZkError(e.getCode(), e.message);
  if (e instanceof Error) return e;
  return new Error(String(e));
}

export interface ConnectOptions {
  sessionTimeoutMs?: number;
  sessionId?: Buffer;
  sessionPassword?: Buffer;
  /** scheme:auth pairs sent right after the handshake (AuthPackets). */
  auth?: ReadonlyArray<readonly [string, string]>;
  timeoutMs?: number;
}

/** Connects and waits for SyncConnected; rejects on expiry, auth failure or timeout. */
export function connect(connectString: string, opts: ConnectOptions = {}): Promise<Client> {
  const options: ClientOptions = { sessionTimeout: opts.sessionTimeoutMs ?? 10000, retries: 0, spinDelay: 200 };
  if (opts.sessionId !== undefined) options.sessionId = opts.sessionId;
  if (opts.sessionPassword !== undefined) options.sessionPassword = opts.sessionPassword;
  const client = zookeeper.createClient(connectString, options);
  for (const [scheme, auth] of opts.auth ?? []) client.addAuthInfo(scheme, Buffer.from(auth));
  return new Promise((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
    const fail = (why: string): void => {
      clearTimeout(timer);
      client.close();
      reject(new ZkError(why === 'expired' ? -112 : why === 'auth' ? -115 : -4, `connect to ${connectString}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no SyncConnected within ${timeoutMs} ms`), timeoutMs);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.once('expired', () => fail('expired'));
    client.once('authenticationFailed', () => fail('auth'));
    client.connect();
  });
}

/** closeSession and wait (bounded) until the client reports the connection gone. */
export function close(client: Client): Promise<void> {
  const state = client.getState();
  if (state !== zookeeper.State.SYNC_CONNECTED && state !== zookeeper.State.CONNECTED_READ_ONLY) {
    client.close();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    client.once('disconnected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close();
  });
}

/** Runs fn with a connected client and always closes it. */
export async function withClient<T>(connectString: string, fn: (c: Client) => Promise<T>, opts: ConnectOptions = {}): Promise<T> {
  const client = await connect(connectString, opts);
  try {
    return await fn(client);
  } finally {
    await close(client);
  }
}

/** Runs fn with n connected clients and always closes them all. */
export async function withClients<T>(connectString: string, n: number, fn: (cs: Client[]) => Promise<T>, opts: ConnectOptions = {}): Promise<T> {
  const clients: Client[] = [];
  try {
    for (let i = 0; i < n; i++) clients.push(await connect(connectString, opts));
    return await fn(clients);
  } finally {
    await Promise.all(clients.map((c) => close(c)));
  }
}

/** 0 when the operation succeeds, else its ZooKeeper error code. */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof ZkError) return e.code;
    throw e;
  }
}

function settle<T>(resolve: (v: T) => void, reject: (e: Error) => void): (err: Error | null, v: T) => void {
  return (err, v) => (err !== null && err !== undefined ? reject(toZkError(err)) : resolve(v));
}

export function create(c: Client, path: string, data: Buffer | null = null, mode = 0, acls?: ACL[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const cb = settle<string>(resolve, reject);
    if (acls === undefined) c.create(path, data, mode, cb);
    else c.create(path, data, acls, mode, cb);
  });
}

export function remove(c: Client, path: string, version = -1): Promise<void> {
  return new Promise((resolve, reject) => c.remove(path, version, (err) => (err !== null && err !== undefined ? reject(toZkError(err)) : resolve())));
}

export function exists(c: Client, path: string, watcher?: Watcher): Promise<Stat | null> {
  return new Promise((resolve, reject) => {
    const cb = settle<Stat | null>(resolve, reject);
    if (watcher === undefined) c.exists(path, cb);
    else c.exists(path, watcher, cb);
  });
}

export interface DataAndStat {
  /** null when the node's data is null on the wire (length -1). */
  data: Buffer | null;
  stat: Stat;
}

export function getData(c: Client, path: string, watcher?: Watcher): Promise<DataAndStat> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null, data: Buffer | undefined, stat: Stat): void => {
      if (err !== null && err !== undefined) reject(toZkError(err));
      else resolve({ data: data ?? null, stat });
    };
    if (watcher === undefined) c.getData(path, cb);
    else c.getData(path, watcher, cb);
  });
}

export function setData(c: Client, path: string, data: Buffer, version = -1): Promise<Stat> {
  return new Promise((resolve, reject) => c.setData(path, data, version, settle<Stat>(resolve, reject)));
}

export interface ChildrenAndStat {
  children: string[];
  stat: Stat;
}

export function getChildren(c: Client, path: string, watcher?: Watcher): Promise<ChildrenAndStat> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null, children: string[], stat: Stat): void => {
      if (err !== null && err !== undefined) reject(toZkError(err));
      else resolve({ children, stat });
    };
    if (watcher === undefined) c.getChildren(path, cb);
    else c.getChildren(path, watcher, cb);
  });
}

export interface AclAndStat {
  acls: ACL[];
  stat: Stat;
}

export function getACL(c: Client, path: string): Promise<AclAndStat> {
  return new Promise((resolve, reject) =>
    c.getACL(path, (err, acls, stat) => (err !== null && err !== undefined ? reject(toZkError(err)) : resolve({ acls, stat }))),
  );
}

export function setACL(c: Client, path: string, acls: ACL[], version = -1): Promise<Stat> {
  return new Promise((resolve, reject) => c.setACL(path, acls, version, settle<Stat>(resolve, reject)));
}

export type TxnOp =
  | { op: 'create'; path: string; data?: Buffer; mode?: number; acls?: ACL[] }
  | { op: 'remove'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Buffer; version?: number }
  | { op: 'check'; path: string; version: number };

/**
 * multi via node-zookeeper-client's Transaction. Resolves with the per-op results even when
 * the transaction failed (`error` = the first failing code, 0 when it committed).
 */
export function multi(c: Client, ops: readonly TxnOp[]): Promise<{ error: number; results: TransactionResult[] }> {
  const txn = c.transaction();
  for (const o of ops) {
    switch (o.op) {
      case 'create':
        txn.create(o.path, o.data ?? null, o.acls ?? zookeeper.ACL.OPEN_ACL_UNSAFE, o.mode ?? 0);
        break;
      case 'remove':
        txn.remove(o.path, o.version ?? -1);
        break;
      case 'setData':
        txn.setData(o.path, o.data, o.version ?? -1);
        break;
      case 'check':
        txn.check(o.path, o.version);
        break;
    }
  }
  return new Promise((resolve, reject) =>
    txn.commit((err, results) => {
      if (err !== null && err !== undefined && !(err instanceof zookeeper.Exception)) {
        reject(err);
        return;
      }
      if (results === undefined) {
        reject(toZkError(err ?? new Error('multi: no results')));
        return;
      }
      resolve({ error: err === null || err === undefined ? 0 : err.getCode(), results });
    }),
  );
}

/** A watcher that records its events and lets a test wait for them (bounded). */
export class EventRecorder {
  readonly events: Event[] = [];
  private waiters: Array<() => void> = [];

  readonly watcher: Watcher = (event) => {
    this.events.push(event);
    for (const w of this.waiters.splice(0)) w();
  };

  async waitFor(count: number, timeoutMs = 5000): Promise<Event[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} watch events, got ${this.events.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events.slice(0, count);
  }
}

/** A 64-bit Stat field (8-byte big-endian Buffer in node-zookeeper-client) as a bigint. */
export function long(buf: Buffer): bigint {
  return buf.readBigInt64BE(0);
}

/** The client's session id as a bigint. */
export function sessionIdOf(c: Client): bigint {
  return c.getSessionId().readBigInt64BE(0);
}
