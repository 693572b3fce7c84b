// What the server reports about itself. Clients and tools detect features from the version
// string, so we report the ZooKeeper version whose behaviour we implement, then our own.
import { readFileSync } from 'node:fs';

/** Our package.json, found upward from this file (src/, dist/src/ or the dist/ bundle). */
function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'zooraft' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level; try the next
    }
  }
  return '0.0.0';
}

const own = packageVersion();
export const VERSION = {
  own,
  zookeeperCompatible: `3.8.0-zooraft-${own}`,
  builtOnMs: Date.now(),
};
