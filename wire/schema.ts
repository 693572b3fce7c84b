// One declaration per jute record gives its TypeScript type, encoder and decoder,
// so the three can never drift apart (zookeeper.jute is the source of the field orders).
import { JuteReader, JuteWriter } from './jute.js';

export interface FieldType<T> {
  readonly kind: string;
  read(r: JuteReader): T;
  write(w: JuteWriter, v: T): void;
}

export const int: FieldType<number> = {
  kind: 'int',
  read: (r) => r.readInt(),
  write: (w, v) => w.writeInt(v),
};

export const long: FieldType<bigint> = {
  kind: 'long',
  read: (r) => r.readLong(),
  write: (w, v) => w.writeLong(v),
};

export const bool: FieldType<boolean> = {
  kind: 'boolean',
  read: (r) => r.readBool(),
  write: (w, v) => w.writeBool(v),
};

export const buffer: FieldType<Buffer | null> = {
  kind: 'buffer',
  read: (r) => r.readBuffer(),
  write: (w, v) => w.writeBuffer(v),
};

export const ustring: FieldType<string | null> = {
  kind: 'ustring',
  read: (r) => r.readUString(),
  write: (w, v) => w.writeUString(v),
};

/** A string that must not be null on the wire path we produce; a null read becomes ''. */
export const path: FieldType<string> = {
  kind: 'ustring',
  read: (r) => r.readUString() ?? '',
  write: (w, v) => w.writeUString(v),
};

export function vector<T>(item: FieldType<T>): FieldType<T[] | null> {
  return {
    kind: `vector<${item.kind}>`,
    read: (r) => {
      const n = r.readVectorLength();
      if (n === -1) return null;
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = item.read(r);
      return out;
    },
    write: (w, v) => {
      if (v === null) {
        w.writeInt(-1);
        return;
      }
      w.writeInt(v.length);
      for (const x of v) item.write(w, x);
    },
  };
}

/** A vector read as [] when null: for lists whose nullness no client relies on. */
export function list<T>(item: FieldType<T>): FieldType<T[]> {
  const inner = vector(item);
  return {
    kind: inner.kind,
    read: (r) => inner.read(r) ?? [],
    write: (w, v) => inner.write(w, v),
  };
}

type Fields = Record<string, FieldType<unknown>>;
export type RecordValue<F extends Fields> = { [K in keyof F]: F[K] extends FieldType<infer T> ? T : never };

export interface RecordType<T> extends FieldType<T> {
  readonly name: string;
  readonly fieldNames: readonly string[];
  encode(v: T): Buffer;
  decode(buf: Buffer): T;
}

export function record<F extends Fields>(name: string, fields: F): RecordType<RecordValue<F>> {
  const entries = Object.entries(fields);
  const fieldNames = entries.map(([k]) => k);
  const read = (r: JuteReader): RecordValue<F> => {
    const out: Record<string, unknown> = {};
    for (const [k, t] of entries) out[k] = t.read(r);
    return out as RecordValue<F>;
  };
  const write = (w: JuteWriter, v: RecordValue<F>): void => {
    const values = v as Record<string, unknown>;
    for (const [k, t] of entries) t.write(w, values[k]);
  };
  return {
    kind: name,
    name,
    fieldNames,
    read,
    write,
    encode: (v) => {
      const w = new JuteWriter(64);
      write(w, v);
      return w.toBuffer();
    },
    decode: (buf) => {
      const r = new JuteReader(buf);
      const v = read(r);
      r.expectEnd(name);
      return v;
    },
  };
}
