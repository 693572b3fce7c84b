// Types for the parts of node-zookeeper-client 1.1.3 (a CommonJS package without its own
// declarations) that zooraft's tests use. Shapes follow the package's lib/*.js: 64-bit
// fields (zxids, times, session ids, ephemeralOwner) are 8-byte big-endian Buffers, a null
// data buffer comes back as undefined, and callbacks are Node-style (error first).
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    ctime: Buffer;
    mtime: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
    pzxid: Buffer;
  }

  export class Id {
    constructor(scheme: string, id: string);
    scheme: string;
    id: string;
    static readonly ANYONE_ID_UNSAFE: Id;
    static readonly AUTH_IDS: Id;
  }

  export class ACL {
    constructor(permission: number, id: Id);
    permission: number;
    id: Id;
    static readonly OPEN_ACL_UNSAFE: ACL[];
    static readonly CREATOR_ALL_ACL: ACL[];
    static readonly READ_ACL_UNSAFE: ACL[];
  }

  export const Permission: {
    readonly READ: 1;
    readonly WRITE: 2;
    readonly CREATE: 4;
    readonly DELETE: 8;
    readonly ADMIN: 16;
    readonly ALL: 31;
  };

  export const CreateMode: {
    readonly PERSISTENT: 0;
    readonly EPHEMERAL: 1;
    readonly PERSISTENT_SEQUENTIAL: 2;
    readonly EPHEMERAL_SEQUENTIAL: 3;
  };
  export type CreateModeValue = 0 | 1 | 2 | 3;

  export class Event {
    readonly type: number;
    readonly name: string;
    readonly path: string | undefined;
    getType(): number;
    getName(): string;
    getPath(): string;
    toString(): string;
    static readonly NODE_CREATED: 1;
    static readonly NODE_DELETED: 2;
    static readonly NODE_DATA_CHANGED: 3;
    static readonly NODE_CHILDREN_CHANGED: 4;
  }

  export class State {
    readonly name: string;
    readonly code: number;
    getName(): string;
    getCode(): number;
    toString(): string;
    static readonly DISCONNECTED: State;
    static readonly SYNC_CONNECTED: State;
    static readonly AUTH_FAILED: State;
    static readonly CONNECTED_READ_ONLY: State;
    static readonly SASL_AUTHENTICATED: State;
    static readonly EXPIRED: State;
  }

  export class Exception extends Error {
    readonly code: number;
    readonly path: string | undefined;
    getCode(): number;
    getName(): string;
    getPath(): string | undefined;
    static readonly OK: 0;
    static readonly SYSTEM_ERROR: -1;
    static readonly RUNTIME_INCONSISTENCY: -2;
    static readonly DATA_INCONSISTENCY: -3;
    static readonly CONNECTION_LOSS: -4;
    static readonly MARSHALLING_ERROR: -5;
    static readonly UNIMPLEMENTED: -6;
    static readonly OPERATION_TIMEOUT: -7;
    static readonly BAD_ARGUMENTS: -8;
    static readonly API_ERROR: -100;
    static readonly NO_NODE: -101;
    static readonly NO_AUTH: -102;
    static readonly BAD_VERSION: -103;
    static readonly NO_CHILDREN_FOR_EPHEMERALS: -108;
    static readonly NODE_EXISTS: -110;
    static readonly NOT_EMPTY: -111;
    static readonly SESSION_EXPIRED: -112;
    static readonly INVALID_CALLBACK: -113;
    static readonly INVALID_ACL: -114;
    static readonly AUTH_FAILED: -115;
  }

  /** One entry of a multi reply: type is the sub-op's opcode, or -1 with err. */
  export interface TransactionResult {
    type: number;
    path?: string;
    stat?: Stat;
    err?: number;
  }

  export class Transaction {
    create(path: string, data?: Buffer | null, acls?: ACL[], mode?: number): Transaction;
    create(path: string, data: Buffer | null, mode: number): Transaction;
    create(path: string, mode: number): Transaction;
    check(path: string, version?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(callback: (error: Exception | Error | null, results: TransactionResult[] | undefined) => void): void;
  }

  export interface ClientOptions {
    sessionTimeout?: number;
    spinDelay?: number;
    retries?: number;
    sessionId?: Buffer;
    sessionPassword?: Buffer;
  }

  export type Watcher = (event: Event) => void;
  type Cb<T> = (error: Exception | Error | null, result: T) => void;

  export class Client extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): State;
    getSessionId(): Buffer;
    getSessionPassword(): Buffer;
    getSessionTimeout(): number;
    addAuthInfo(scheme: string, auth: Buffer): void;

    create(path: string, callback: Cb<string>): void;
    create(path: string, data: Buffer | null, callback: Cb<string>): void;
    create(path: string, data: Buffer | null, mode: number, callback: Cb<string>): void;
    create(path: string, data: Buffer | null, acls: ACL[], callback: Cb<string>): void;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, callback: Cb<string>): void;

    remove(path: string, callback: (error: Exception | Error | null) => void): void;
    remove(path: string, version: number, callback: (error: Exception | Error | null) => void): void;

    exists(path: string, callback: Cb<Stat | null>): void;
    exists(path: string, watcher: Watcher, callback: Cb<Stat | null>): void;

    getData(path: string, callback: (error: Exception | Error | null, data: Buffer | undefined, stat: Stat) => void): void;
    getData(path: string, watcher: Watcher, callback: (error: Exception | Error | null, data: Buffer | undefined, stat: Stat) => void): void;

    setData(path: string, data: Buffer, callback: Cb<Stat>): void;
    setData(path: string, data: Buffer, version: number, callback: Cb<Stat>): void;

    getChildren(path: string, callback: (error: Exception | Error | null, children: string[], stat: Stat) => void): void;
    getChildren(path: string, watcher: Watcher, callback: (error: Exception | Error | null, children: string[], stat: Stat) => void): void;

    getACL(path: string, callback: (error: Exception | Error | null, acls: ACL[], stat: Stat) => void): void;
    setACL(path: string, acls: ACL[], callback: Cb<Stat>): void;
    setACL(path: string, acls: ACL[], version: number, callback: Cb<Stat>): void;

    mkdirp(path: string, callback: Cb<string>): void;
    transaction(): Transaction;

    on(event: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed' | 'connectedReadOnly', listener: () => void): this;
    on(event: 'state', listener: (state: State) => void): this;
    once(event: 'connected' | 'disconnected' | 'expired' | 'authenticationFailed' | 'connectedReadOnly', listener: () => void): this;
    once(event: 'state', listener: (state: State) => void): this;
  }

  export function createClient(connectionString: string, options?: ClientOptions): Client;
}
