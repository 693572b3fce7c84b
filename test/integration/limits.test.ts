// Connection limits: maxClientCnxns per client address (the connection over the limit is
// closed without an answer, as ZooKeeper does), and the limit frees up when a client leaves.
import test from 'ava';
import { RawClient } from '../../compat/raw-client.js';
import { ZooraftProcess } from '../helpers/zooraft-process.js';

test('maxClientCnxns refuses the connection over the limit and frees the slot on close', async (t) => {
  const server = await ZooraftProcess.start({ settings: { maxClientCnxns: '2' } });
  const open: RawClient[] = [];
  try {
    const connect = (): Promise<RawClient> => RawClient.connect({ host: server.host, port: server.port, timeOutMs: 4000, connectTimeoutMs: 3000 });
    open.push(await connect());
    open.push(await connect());
    await t.throwsAsync(connect(), { message: /closed before ConnectResponse|ECONNRESET/ });
    await (open.shift() as RawClient).close();
    // The server frees the slot when it sees the socket close, which can come a moment after
    // our close completes: retry for a bounded time.
    let again: RawClient | null = null;
    for (let i = 0; i < 20 && again === null; i++) {
      again = await connect().catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return null;
      });
    }
    if (again === null) throw new Error('no slot freed after a client closed');
    open.push(again);
    t.not(again.sessionId, 0n);
    t.true(server.logLines.some((l) => l.includes('too many connections')));
  } finally {
    for (const c of open) c.socket.destroy();
    await server.stop();
    await server.removeData();
  }
});
