"""Stock kazoo against a 3-member ensemble, across a leader failure.

Phase 1: connect to all members, hold a Lock, register an ephemeral sequential member, print
{"phase": "ready", ...} and wait for a line on stdin (the test kills the leader meanwhile).
Phase 2: keep working with kazoo's own retry, then print what survived as one JSON line.
"""
import json
import sys

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

hosts = sys.argv[1]
zk = KazooClient(hosts=hosts, timeout=20.0)
states = []
zk.add_listener(lambda state: states.append(str(state)))
zk.start(timeout=20)
zk.ensure_path("/app/members")
lock = zk.Lock("/app/lock", "worker-1")
lock.acquire(timeout=10)
zk.create("/app/members/m-", b"x", ephemeral=True, sequence=True)
session = zk.client_id[0]
print(json.dumps({"phase": "ready", "session": session, "states": list(states)}), flush=True)
sys.stdin.readline()

retry = KazooRetry(max_tries=-1, deadline=40, delay=0.2, max_delay=1)
retry(zk.create, "/app/after", b"y")
members = retry(zk.get_children, "/app/members")
contenders = retry(lock.contenders)
after = retry(zk.get, "/app/after")[0].decode()
out = {
    "phase": "done",
    "same_session": zk.client_id[0] == session,
    "states": list(states),
    "members": members,
    "lock_held": lock.is_acquired,
    "contenders": contenders,
    "after": after,
}
lock.release()
zk.stop()
zk.close()
print(json.dumps(out), flush=True)
