"""A stock kazoo (python3-kazoo 2.8) client run against a zooraft (or ZooKeeper) server by
kazoo.test.ts: python3 kazoo_flow.py host:port. Prints one JSON object with what it observed;
the test asserts on it."""
import json
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NodeExistsError, BadVersionError
from kazoo.recipe.watchers import ChildrenWatch


def main():
    hosts = sys.argv[1]
    out = {}
    zk = KazooClient(hosts=hosts, timeout=10.0)
    other = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=10)
    other.start(timeout=10)
    try:
        out["connected"] = zk.connected
        out["server_version"] = list(zk.server_version())

        # CRUD
        out["create"] = zk.create("/kazoo/app", b"v1", makepath=True)
        data, stat = zk.get("/kazoo/app")
        out["get"] = [data.decode(), stat.version, stat.dataLength]
        stat = zk.set("/kazoo/app", b"v2", version=0)
        out["set_version"] = stat.version
        try:
            zk.set("/kazoo/app", b"v3", version=0)
            out["bad_version"] = None
        except BadVersionError:
            out["bad_version"] = "BadVersionError"
        try:
            zk.create("/kazoo/app")
            out["node_exists"] = None
        except NodeExistsError:
            out["node_exists"] = "NodeExistsError"
        out["other_get"] = other.get("/kazoo/app")[0].decode()
        zk.ensure_path("/kazoo/tmp")
        zk.delete("/kazoo/tmp")
        out["exists_after_delete"] = zk.exists("/kazoo/tmp") is not None
        try:
            zk.get("/kazoo/missing")
            out["no_node"] = None
        except NoNodeError:
            out["no_node"] = "NoNodeError"

        # Sequential + ephemeral
        out["sequence"] = zk.create("/kazoo/app/s-", b"", sequence=True)
        out["ephemeral"] = zk.create("/kazoo/app/e", b"", ephemeral=True)
        eph_stat = other.exists("/kazoo/app/e")
        out["ephemeral_owner_matches"] = eph_stat.ephemeralOwner == zk.client_id[0]

        # ChildrenWatch
        seen = []
        changed = threading.Event()

        def on_children(children):
            seen.append(sorted(children))
            if "c2" in children:
                changed.set()

        zk.ensure_path("/kazoo/watched")
        ChildrenWatch(zk, "/kazoo/watched", on_children)
        other.create("/kazoo/watched/c1")
        other.create("/kazoo/watched/c2")
        out["children_watch_fired"] = changed.wait(10)
        out["children_seen_last"] = seen[-1] if seen else None

        # Lock recipe
        lock_a = zk.Lock("/kazoo/lock", "a")
        lock_b = other.Lock("/kazoo/lock", "b")
        out["lock_a"] = lock_a.acquire(timeout=5)
        out["lock_b_while_held"] = lock_b.acquire(blocking=False)
        out["contenders"] = lock_a.contenders()
        lock_a.release()
        out["lock_b_after_release"] = lock_b.acquire(timeout=5)
        lock_b.release()

        # Transaction
        t = zk.transaction()
        t.create("/kazoo/txn", b"t")
        t.set_data("/kazoo/app", b"v3")
        t.check("/kazoo/app", 2)
        out["txn"] = [r if isinstance(r, (str, bool)) else type(r).__name__ for r in t.commit()]
        out["txn_get"] = other.get("/kazoo/app")[0].decode()
        t2 = zk.transaction()
        t2.create("/kazoo/txn2")
        t2.check("/kazoo/app", 99)
        out["txn_failed"] = [type(r).__name__ for r in t2.commit()]
        out["txn2_exists"] = zk.exists("/kazoo/txn2") is not None
    finally:
        zk.stop()
        zk.close()
    # The ephemeral went with zk's session.
    out["ephemeral_after_close"] = other.exists("/kazoo/app/e") is not None
    other.stop()
    other.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
