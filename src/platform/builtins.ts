// Built-in modules that only some runs need, loaded on first use. Each costs 1-3 ms of start-up
// to load (Node compiles its own JavaScript for it), and start-up time is one of the things
// users compare us on (bench/README.md): v8 and vm for heap statistics and the heap-growth
// cap (set once the server serves), worker_threads for the fan-out helper, crypto for digest ACLs (session passwords
// come from the kernel, src/platform/random.ts).
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

type V8 = typeof import('node:v8');
type Vm = typeof import('node:vm');
type WorkerThreads = typeof import('node:worker_threads');
type Crypto = typeof import('node:crypto');

let v8: V8 | undefined;
let vm: Vm | undefined;
let workerThreads: WorkerThreads | undefined;
let crypto: Crypto | undefined;

export const nodeV8 = (): V8 => (v8 ??= load('node:v8') as V8);
export const nodeVm = (): Vm => (vm ??= load('node:vm') as Vm);
export const nodeWorkerThreads = (): WorkerThreads => (workerThreads ??= load('node:worker_threads') as WorkerThreads);
export const nodeCrypto = (): Crypto => (crypto ??= load('node:crypto') as Crypto);
