// Built-in modules that only some runs need, loaded on first use. Each costs 2-7 ms of start-up
// to load (V8 compiles Node's own JavaScript for it), and start-up time is one of the things
// users compare us on (bench/README.md): v8 and vm for heap statistics and the heap-growth
// fallback, worker_threads for the fan-out helper. Not crypto: the first session needs it.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

type V8 = typeof import('node:v8');
type Vm = typeof import('node:vm');
type WorkerThreads = typeof import('node:worker_threads');

let v8: V8 | undefined;
let vm: Vm | undefined;
let workerThreads: WorkerThreads | undefined;

export const nodeV8 = (): V8 => (v8 ??= load('node:v8') as V8);
export const nodeVm = (): Vm => (vm ??= load('node:vm') as Vm);
export const nodeWorkerThreads = (): WorkerThreads => (workerThreads ??= load('node:worker_threads') as WorkerThreads);
