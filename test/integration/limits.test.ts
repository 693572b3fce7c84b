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
    const again = await connect();
    open.push(again);
    t.not(again.sessionId, 0n);
    t.true(server.logLines.some((l) => l.includes('too many connections')));
  } finally {
    for (const c of open) c.socket.destroy();
    await server.stop();
    await server.removeData();
  }
});
