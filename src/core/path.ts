// PathUtils.validatePath semantics: what a write may name. Reads do not validate (a bad
// path simply does not exist, so they answer NoNode as ZooKeeper does).

/** null when valid, else the reason (ZooKeeper's wording where it has one). */
export function invalidPathReason(path: string): string | null {
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let prev = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && prev === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && prev === 0x2f) {
      const next = i + 1 < path.length ? path.charCodeAt(i + 1) : 0x2f;
      const segmentIsDot = next === 0x2f;
      const segmentIsDotDot = next === 0x2e && (i + 2 >= path.length || path.charCodeAt(i + 2) === 0x2f);
      if (segmentIsDot || segmentIsDotDot) return `relative paths not allowed @${i}`;
    }
    if ((c > 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`;
    }
    prev = c;
  }
  return null;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinChild(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The four nodes ZooKeeper refuses to delete. */
export const SYSTEM_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);
