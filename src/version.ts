// What the server reports about itself. Clients and tools detect features from the version
// string, so we report the ZooKeeper version whose behaviour we implement, then our own.
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const own = packageVersion();
export const VERSION = {
  own,
  zookeeperCompatible: `3.8.0-zooraft-${own}`,
  builtOnMs: Date.now(),
};
