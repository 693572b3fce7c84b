// Packet and latency counters kept both per connection and for the whole server
// (four-letter words report both): one shape, one way to update it.

export interface TrafficCounters {
  packetsReceived: number;
  packetsSent: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  latencyCount: number;
}

export function freshTraffic(): TrafficCounters {
  return { packetsReceived: 0, packetsSent: 0, minLatencyMs: Number.POSITIVE_INFINITY, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0 };
}

export function addLatency(c: TrafficCounters, ms: number): void {
  c.totalLatencyMs += ms;
  c.latencyCount++;
  if (ms < c.minLatencyMs) c.minLatencyMs = ms;
  if (ms > c.maxLatencyMs) c.maxLatencyMs = ms;
}
