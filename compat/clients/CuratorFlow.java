// A stock Apache Curator 5 client run against a zooraft (or ZooKeeper) server by
// curator.test.ts, through Java's single-file source launcher (java CuratorFlow.java host:port).
// It prints one "key=value" line per observation; the test asserts on them.
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

public class CuratorFlow {
    static void out(String key, Object value) {
        System.out.println(key + "=" + value);
        System.out.flush();
    }

    static CuratorFramework client(String connect) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 10000, 5000, new RetryNTimes(3, 200));
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        return c;
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        try (CuratorFramework a = client(connect); CuratorFramework b = client(connect)) {
            out("connected", true);

            // Parents as containers (createContainer, op 19), the node itself with create2.
            Stat created = new Stat();
            String path = a.create().creatingParentContainersIfNeeded().storingStatIn(created).forPath("/curator/app/config", "v1".getBytes(StandardCharsets.UTF_8));
            out("created", path);
            out("created.version", created.getVersion());
            out("created.dataLength", created.getDataLength());
            out("get", new String(a.getData().forPath("/curator/app/config"), StandardCharsets.UTF_8));
            Stat set = a.setData().withVersion(0).forPath("/curator/app/config", "v2".getBytes(StandardCharsets.UTF_8));
            out("set.version", set.getVersion());
            out("get2", new String(b.getData().forPath("/curator/app/config"), StandardCharsets.UTF_8));
            out("children", a.getChildren().forPath("/curator/app"));
            String eph = a.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/curator/app/member-");
            out("ephemeral", eph);

            // Lock: a holds it, b cannot get it until a releases it.
            InterProcessMutex lockA = new InterProcessMutex(a, "/curator/locks/m");
            InterProcessMutex lockB = new InterProcessMutex(b, "/curator/locks/m");
            out("lockA.acquired", lockA.acquire(5, TimeUnit.SECONDS));
            out("lockB.whileHeld", lockB.acquire(300, TimeUnit.MILLISECONDS));
            lockA.release();
            out("lockB.afterRelease", lockB.acquire(5, TimeUnit.SECONDS));
            lockB.release();

            // Leader latch.
            try (LeaderLatch latch = new LeaderLatch(a, "/curator/leader", "a")) {
                latch.start();
                out("leader", latch.await(5, TimeUnit.SECONDS) && latch.hasLeadership());
            }

            // CuratorCache: a persistent recursive watch (addWatch mode 1). Each change waits for
            // its callback before the next one, as the cache fetches data asynchronously.
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            CountDownLatch initialized = new CountDownLatch(1);
            a.create().creatingParentContainersIfNeeded().forPath("/curator/cache/seed", "s".getBytes(StandardCharsets.UTF_8));
            try (CuratorCache cache = CuratorCache.build(a, "/curator/cache")) {
                cache.listenable().addListener(CuratorCacheListener.builder()
                    .forInitialized(initialized::countDown)
                    .forCreates(n -> { if (initialized.getCount() == 0) seen.add("create " + n.getPath()); })
                    .forChanges((o, n) -> seen.add("change " + n.getPath() + " " + new String(n.getData(), StandardCharsets.UTF_8)))
                    .forDeletes(o -> seen.add("delete " + o.getPath()))
                    .build());
                cache.start();
                out("cache.initialized", initialized.await(5, TimeUnit.SECONDS));
                b.create().forPath("/curator/cache/new", "n".getBytes(StandardCharsets.UTF_8));
                out("cache.event1", seen.poll(5, TimeUnit.SECONDS));
                b.setData().forPath("/curator/cache/seed", "s2".getBytes(StandardCharsets.UTF_8));
                out("cache.event2", seen.poll(5, TimeUnit.SECONDS));
                b.delete().forPath("/curator/cache/new");
                out("cache.event3", seen.poll(5, TimeUnit.SECONDS));
            }

            // Transaction (multi).
            List<CuratorTransactionResult> results = a.transaction().forOperations(
                a.transactionOp().create().forPath("/curator/txn", "t".getBytes(StandardCharsets.UTF_8)),
                a.transactionOp().setData().forPath("/curator/app/config", "v3".getBytes(StandardCharsets.UTF_8)),
                a.transactionOp().check().withVersion(2).forPath("/curator/app/config"));
            out("txn.size", results.size());
            out("txn.created", results.get(0).getForPath());
            out("txn.get", new String(b.getData().forPath("/curator/app/config"), StandardCharsets.UTF_8));

            a.delete().deletingChildrenIfNeeded().forPath("/curator/txn");
            out("exists.after.delete", a.checkExists().forPath("/curator/txn") != null);
            out("done", true);
        }
    }
}
