// ACL schemes world, auth, digest, ip and super, as ZooKeeper's auth providers apply them.
import { nodeCrypto } from '../platform/builtins.js';
import { Perms } from '../../wire/index.js';
import type { ACL, Id } from '../../wire/index.js';

/** The ids a connection has proven: always its ip, plus digest ids from auth packets, plus super. */
export interface AuthIds {
  readonly ids: readonly Id[];
}

export const WORLD_ANYONE: Id = { scheme: 'world', id: 'anyone' };
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.ALL, id: WORLD_ANYONE }];
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.READ, id: WORLD_ANYONE }];

/** digest id for "user:password": user + ':' + base64(sha1("user:password")). */
export function digestId(userPassword: string): string {
  const colon = userPassword.indexOf(':');
  const user = colon < 0 ? userPassword : userPassword.slice(0, colon);
  const hash = nodeCrypto().createHash('sha1').update(userPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

/** Providers whose ids replace an `auth` ACL entry (ZooKeeper: isAuthenticated() providers). */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === 'digest' || scheme === 'sasl' || scheme === 'x509';
}

function validIp(id: string): boolean {
  const [addr, bits, ...rest] = id.split('/');
  if (addr === undefined || rest.length > 0) return false;
  const parts = addr.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return false;
  if (bits === undefined) return true;
  return /^\d{1,2}$/.test(bits) && Number(bits) <= 32;
}

function validId(id: Id): boolean {
  switch (id.scheme) {
    case 'world':
      return id.id === 'anyone';
    case 'digest':
      return id.id.split(':').length === 2;
    case 'ip':
      return validIp(id.id);
    case 'sasl':
    case 'x509':
      return id.id.length > 0;
    default:
      return false;
  }
}

/**
 * fixupACL: null or empty → InvalidACL; `auth` entries become the caller's authenticated ids
 * (none → InvalidACL); unknown schemes or malformed ids → InvalidACL. Returns null when invalid.
 */
export function fixupACL(acl: readonly ACL[] | null, auth: AuthIds): ACL[] | null {
  if (acl === null || acl.length === 0) return null;
  const out: ACL[] = [];
  for (const entry of acl) {
    if (entry.id.scheme === 'super') return null;
    if (entry.id.scheme === 'auth') {
      const authed = auth.ids.filter((id) => isAuthenticatedScheme(id.scheme));
      if (authed.length === 0) return null;
      for (const id of authed) out.push({ perms: entry.perms, id: { scheme: id.scheme, id: id.id } });
      continue;
    }
    if (!validId(entry.id)) return null;
    out.push(entry);
  }
  return dedupe(out);
}

function dedupe(acl: ACL[]): ACL[] {
  if (acl.length < 2) return acl;
  const seen = new Set<string>();
  return acl.filter((a) => {
    const key = `${a.perms}|${a.id.scheme}|${a.id.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function ipToInt(addr: string): number | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0 || n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

function ipMatches(aclId: string, clientIp: string): boolean {
  const [addr, bitsText] = aclId.split('/');
  const a = ipToInt(addr ?? '');
  const c = ipToInt(clientIp);
  if (a === null || c === null) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (bits === 0) return true;
  const shift = 32 - bits;
  return Math.floor(a / 2 ** shift) === Math.floor(c / 2 ** shift);
}

function idMatches(aclId: Id, caller: Id): boolean {
  if (aclId.scheme !== caller.scheme) return false;
  if (aclId.scheme === 'ip') return ipMatches(aclId.id, caller.id);
  return aclId.id === caller.id;
}

/** checkACL: super bypasses; an empty stored list allows everything (legacy); else any entry granting perm. */
export function hasPermission(acl: readonly ACL[], perm: number, auth: AuthIds): boolean {
  if (acl.length === 0) return true;
  for (const id of auth.ids) if (id.scheme === 'super') return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    for (const id of auth.ids) if (idMatches(entry.id, id)) return true;
  }
  return false;
}

/** Normalize IPv4-mapped IPv6 addresses ("::ffff:127.0.0.1") to the dotted form ACLs use. */
export function clientIpId(remoteAddress: string | undefined): Id {
  const addr = remoteAddress ?? '';
  return { scheme: 'ip', id: addr.startsWith('::ffff:') ? addr.slice(7) : addr };
}

function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * ZooKeeper keeps a connection's ids in a hash set, so whoAmI lists them in bucket order of
 * the jute Id hashCode (16 buckets), then insertion order. Clients print that order as is.
 */
export function idsInZooKeeperOrder(ids: readonly Id[]): Id[] {
  const bucketOf = (id: Id): number => {
    let h = 17;
    h = (Math.imul(37, h) + javaStringHash(id.scheme)) | 0;
    h = (Math.imul(37, h) + javaStringHash(id.id)) | 0;
    return (h ^ (h >>> 16)) & 15;
  };
  return ids
    .map((id, i) => ({ id, i, bucket: bucketOf(id) }))
    .sort((a, b) => a.bucket - b.bucket || a.i - b.i)
    .map((x) => x.id);
}

/** The user name whoAmI shows: a digest id's user part, otherwise the id itself. */
export function userNameOf(id: Id): string {
  if (id.scheme === 'digest') return id.id.split(':')[0] ?? id.id;
  return id.id;
}

/** Same entries in the same order (ACL lists are compared this way when interning and encoding). */
export function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ACL;
    const y = b[i] as ACL;
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}
