// The closed-loop load through node-zookeeper-client, the stock Node client users actually run:
// the same paths and checks as the lean client's getData/setData workloads, so the two runs show
// how much of the difference a real client keeps.
import { performance } from 'node:perf_hooks';
import zookeeper from 'node-zookeeper-client';
import type { Client } from 'node-zookeeper-client';
import { ClientError } from './lean-client.js';
import { VALUE_1K } from './workloads.js';

export interface StockLoad {
  host: string;
  port: number;
  workload: string;
  sessions: number;
  depth: number;
  /** Unique per worker, for each client's own setData node. */
  id: string;
  stopAt: () => number;
  onReply: (latencyUs: number, at: number) => void;
  onError: (code: number) => void;
}

function connect(host: string, port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(`${host}:${port}`, { sessionTimeout: 30000, retries: 0 });
    const timer = setTimeout(() => {
      c.close();
      reject(new Error(`node-zookeeper-client did not connect to ${host}:${port} within 10 s`));
    }, 10000);
    c.once('connected', () => {
      clearTimeout(timer);
      resolve(c);
    });
    c.connect();
  });
}

function codeOf(e: unknown): number {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : ClientError.ConnectionLost;
}

export class StockClientLoad {
  private readonly cfg: StockLoad;
  private clients: Client[] = [];

  constructor(cfg: StockLoad) {
    this.cfg = cfg;
  }

  async open(): Promise<void> {
    for (let i = 0; i < this.cfg.sessions; i++) {
      const c = await connect(this.cfg.host, this.cfg.port);
      this.clients.push(c);
      if (this.cfg.workload === 'nzkSetData') {
        await new Promise<void>((resolve, reject) =>
          c.create(this.nodeOf(i), VALUE_1K, (e) => (e === null || codeOf(e) === -110 ? resolve() : reject(e instanceof Error ? e : new Error(String(e))))),
        );
      }
    }
  }

  private nodeOf(i: number): string {
    return `/bench/set/stock-${this.cfg.id}-${i}`;
  }

  /** Keeps `depth` requests in flight per client until stopAt; resolves when all have answered. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      let live = 0;
      const done = (): void => {
        if (live === 0 && performance.now() >= this.cfg.stopAt()) resolve();
      };
      this.clients.forEach((c, i) => {
        const path = this.cfg.workload === 'nzkSetData' ? this.nodeOf(i) : '/bench/data';
        const issue = (): void => {
          if (performance.now() >= this.cfg.stopAt()) {
            done();
            return;
          }
          live++;
          const sentAt = performance.now();
          const after = (e: unknown, ok: boolean): void => {
            live--;
            if (e !== null && e !== undefined) this.cfg.onError(codeOf(e));
            else if (!ok) this.cfg.onError(ClientError.BadReply);
            else {
              const now = performance.now();
              this.cfg.onReply((now - sentAt) * 1000, now);
            }
            issue();
          };
          if (this.cfg.workload === 'nzkSetData') c.setData(path, VALUE_1K, -1, (e, stat) => after(e, (stat as { dataLength?: number } | undefined)?.dataLength === 1024));
          else c.getData(path, (e, data) => after(e, data?.length === 1024));
        };
        for (let k = 0; k < this.cfg.depth; k++) issue();
      });
      const t = setInterval(() => {
        if (live === 0 && performance.now() >= this.cfg.stopAt()) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
  }

  close(): void {
    for (const c of this.clients) c.close();
    this.clients = [];
  }
}
