// The server's open connections, in a dense array, with an index from session id to position.
//
// Why not a Set and a Map<sessionId, connection>: once a Map or Set is old, V8 allocates each
// new hash table it grows or rehashes into in old space, and the table it replaced keeps its
// entries until the next full collection. Old objects count as roots for young-generation
// collections, so under connection churn every closed connection (its socket, buffers and
// queue) survived each scavenge and was promoted, and old space filled until a full GC ran:
// measured under ephemeral churn, ~1.8 MB survived every scavenge (3-7 ms pauses) and a full
// GC ran every half second. Here removal swaps the last connection into the freed slot and
// clears the old one, and the session index holds positions (small integers, not pointers),
// so nothing outlives a closed connection but garbage young collections can take.

/** What the table needs from a connection: where it sits, and its session (0n: none yet). */
export interface TableEntry {
  /** Position in the table; -1 when not in it. Only the table writes it. */
  tableSlot: number;
  readonly sessionId: bigint;
}

export class ConnectionTable<C extends TableEntry> implements Iterable<C> {
  private readonly slots: C[] = [];
  private readonly slotBySession = new Map<bigint, number>();

  get size(): number {
    return this.slots.length;
  }

  add(conn: C): void {
    if (conn.tableSlot >= 0) return;
    conn.tableSlot = this.slots.length;
    this.slots.push(conn);
  }

  /** Removes conn (and its session binding, if it still holds it); false if it was not in the table. */
  delete(conn: C): boolean {
    const slot = conn.tableSlot;
    if (slot < 0 || this.slots[slot] !== conn) return false;
    if (this.slotBySession.get(conn.sessionId) === slot) this.slotBySession.delete(conn.sessionId);
    const last = this.slots.pop() as C;
    if (last !== conn) {
      const lastSlot = this.slots.length;
      this.slots[slot] = last;
      last.tableSlot = slot;
      if (this.slotBySession.get(last.sessionId) === lastSlot) this.slotBySession.set(last.sessionId, slot);
    }
    conn.tableSlot = -1;
    return true;
  }

  /** Makes conn (already in the table) the connection of its session. */
  bindSession(conn: C): void {
    if (conn.tableSlot >= 0) this.slotBySession.set(conn.sessionId, conn.tableSlot);
  }

  forSession(sessionId: bigint): C | undefined {
    const slot = this.slotBySession.get(sessionId);
    return slot === undefined ? undefined : this.slots[slot];
  }

  /** Forgets which connection serves sessionId (the connection stays in the table). */
  unbindSession(sessionId: bigint): void {
    this.slotBySession.delete(sessionId);
  }

  [Symbol.iterator](): Iterator<C> {
    return this.slots[Symbol.iterator]();
  }

  /** A copy, for loops that close connections (and so remove them) as they go. */
  toArray(): C[] {
    return this.slots.slice();
  }
}
