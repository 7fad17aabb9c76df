/**
 * Merges the simulated kernel's BTF (src/kernel/kernel-btf.ts) into a real kernel's BTF, for
 * scripts/sched-ext/build.sh: `bpftool btf dump file MERGED format c` then gives a vmlinux.h
 * whose sched_ext types (and every other struct, union and enum bpfrun's BTF defines) are
 * bpfrun's, while the generic kernel types the scx headers use and bpfrun lacks come from the
 * real kernel. bpftool orders the merged types itself, so no C text is edited.
 *
 *   node dist/scripts/sched-ext/merge-btf.js BASE_BTF OUT   (BASE_BTF: e.g. /sys/kernel/btf/vmlinux)
 *
 * Rules, on raw BTF records:
 *  * a named STRUCT, UNION, ENUM or ENUM64 of the simulated BTF replaces the base's type of that
 *    name (and a base FWD of that name): every reference to the base's type is redirected;
 *  * a simulated INT, TYPEDEF or FWD whose name the base has (as INT, TYPEDEF, or STRUCT/UNION
 *    for a FWD) is the base's, so `u32`, `atomic_t`, `refcount_t` … are defined once;
 *  * FUNC, VAR, DATASEC and DECL_TAG records are dropped (vmlinux.h declares no functions or
 *    variables, and the scx headers declare the kfuncs themselves);
 *  * simulated types that nothing kept refers to (anonymous structs behind replaced typedefs)
 *    are dropped.
 * The output is deterministic: base types in base order, then simulated types in their order.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { kernelBtf } from '../../src/kernel/kernel-btf.js';

const K = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

interface Rec {
  name: string;
  kind: number;
  vlen: number;
  kflag: number;
  sizeOrType: number;
  /** Trailing words; string offsets in them are replaced by strings in `names`. */
  extra: number[];
  /** Names of members / params / enumerators, in order. */
  names: string[];
}

/** Words per trailing entry, and which word of an entry is a name, per kind. */
function layout(kind: number, vlen: number): { fixed: number; per: number; nameAt: number } {
  switch (kind) {
    case K.INT: case K.VAR: case K.DECL_TAG: return { fixed: 1, per: 0, nameAt: -1 };
    case K.ARRAY: return { fixed: 3, per: 0, nameAt: -1 };
    case K.STRUCT: case K.UNION: return { fixed: 0, per: 3, nameAt: 0 };
    case K.ENUM: return { fixed: 0, per: 2, nameAt: 0 };
    case K.ENUM64: return { fixed: 0, per: 3, nameAt: 0 };
    case K.FUNC_PROTO: return { fixed: 0, per: 2, nameAt: 0 };
    case K.DATASEC: return { fixed: 0, per: 3, nameAt: -1 };
    default: void vlen; return { fixed: 0, per: 0, nameAt: -1 };
  }
}

function parse(bytes: Uint8Array): Rec[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) throw new Error('not raw BTF (magic)');
  const hdrLen = v.getUint32(4, true);
  const typeOff = hdrLen + v.getUint32(8, true);
  const typeLen = v.getUint32(12, true);
  const strOff = hdrLen + v.getUint32(16, true);
  const strLen = v.getUint32(20, true);
  const str = (off: number): string => {
    if (off === 0) return '';
    let end = strOff + off;
    while (end < strOff + strLen && bytes[end] !== 0) end++;
    return Buffer.from(bytes.subarray(strOff + off, end)).toString('latin1');
  };
  const recs: Rec[] = [];
  let at = typeOff;
  while (at < typeOff + typeLen) {
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const { fixed, per, nameAt } = layout(kind, vlen);
    const n = fixed + per * vlen;
    const extra: number[] = [];
    for (let i = 0; i < n; i++) extra.push(v.getUint32(at + 12 + i * 4, true));
    const names: string[] = [];
    if (nameAt >= 0) for (let i = 0; i < vlen; i++) names.push(str(extra[i * per + nameAt]!));
    recs.push({ name: str(v.getUint32(at, true)), kind, vlen, kflag: info >>> 31, sizeOrType: v.getUint32(at + 8, true), extra, names });
    at += 12 + n * 4;
  }
  return recs;
}

const REF_IN_SIZE_OR_TYPE: ReadonlySet<number> = new Set([
  K.PTR, K.TYPEDEF, K.VOLATILE, K.CONST, K.RESTRICT, K.FUNC, K.FUNC_PROTO, K.VAR, K.DECL_TAG, K.TYPE_TAG,
]);

/** The type ids a record refers to, as [get, set] pairs on the record. */
function refs(r: Rec): { get: () => number; set: (id: number) => void }[] {
  const out: { get: () => number; set: (id: number) => void }[] = [];
  const word = (i: number) => out.push({ get: () => r.extra[i]!, set: (id) => { r.extra[i] = id; } });
  if (REF_IN_SIZE_OR_TYPE.has(r.kind)) out.push({ get: () => r.sizeOrType, set: (id) => { r.sizeOrType = id; } });
  if (r.kind === K.ARRAY) { word(0); word(1); }
  if (r.kind === K.STRUCT || r.kind === K.UNION) for (let i = 0; i < r.vlen; i++) word(i * 3 + 1);
  if (r.kind === K.FUNC_PROTO) for (let i = 0; i < r.vlen; i++) word(i * 2 + 1);
  if (r.kind === K.DATASEC) for (let i = 0; i < r.vlen; i++) word(i * 3);
  return out;
}

function encode(recs: Rec[]): Uint8Array {
  const strOffsets = new Map<string, number>([['', 0]]);
  const strParts: Buffer[] = [Buffer.from([0])];
  let strLen = 1;
  const str = (s: string): number => {
    let off = strOffsets.get(s);
    if (off === undefined) {
      off = strLen;
      strOffsets.set(s, off);
      const b = Buffer.from(s + '\0', 'latin1');
      strParts.push(b);
      strLen += b.length;
    }
    return off;
  };
  const words: number[] = [];
  for (const r of recs) {
    const { per, nameAt } = layout(r.kind, r.vlen);
    const extra = [...r.extra];
    if (nameAt >= 0) for (let i = 0; i < r.vlen; i++) extra[i * per + nameAt] = str(r.names[i]!);
    words.push(str(r.name), ((r.kflag << 31) | (r.kind << 24) | r.vlen) >>> 0, r.sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
  }
  const strings = Buffer.concat(strParts);
  const out = Buffer.alloc(24 + words.length * 4 + strings.length);
  out.writeUInt16LE(0xeb9f, 0);
  out[2] = 1;
  out.writeUInt32LE(24, 4);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(words.length * 4, 12);
  out.writeUInt32LE(words.length * 4, 16);
  out.writeUInt32LE(strings.length, 20);
  words.forEach((w, i) => out.writeUInt32LE(w, 24 + i * 4));
  strings.copy(out, 24 + words.length * 4);
  return out;
}

export function mergeBtf(baseBytes: Uint8Array, simBytes: Uint8Array): Uint8Array {
  const base = parse(baseBytes);
  const sim = parse(simBytes);
  const isComposite = (k: number) => k === K.STRUCT || k === K.UNION;
  const isEnum = (k: number) => k === K.ENUM || k === K.ENUM64;
  const DROP = new Set<number>([K.FUNC, K.VAR, K.DATASEC, K.DECL_TAG]);

  // Simulated definitions by name (index into sim, 0-based).
  const simDefs = new Map<string, number>();
  sim.forEach((r, i) => { if (r.name && (isComposite(r.kind) || isEnum(r.kind))) simDefs.set(r.name, i); });
  // Base types by name, for redirecting the simulated INTs, TYPEDEFs and FWDs.
  const baseByKey = new Map<string, number>();
  base.forEach((r, i) => {
    if (!r.name) return;
    const key = r.kind === K.INT ? `int:${r.name}` : r.kind === K.TYPEDEF ? `typedef:${r.name}`
      : isComposite(r.kind) ? `${r.kind === K.UNION ? 'union' : 'struct'}:${r.name}` : '';
    if (key && !baseByKey.has(key)) baseByKey.set(key, i);
  });

  // Final placement: 'b'+i (base record i) or 's'+i (sim record i), and redirects.
  type Ref = { side: 'b' | 's'; i: number };
  const baseTo: (Ref | null)[] = base.map((r, i) => {
    if (DROP.has(r.kind)) return null;
    if (r.name && (isComposite(r.kind) || isEnum(r.kind) || r.kind === K.FWD) && simDefs.has(r.name)) {
      return { side: 's', i: simDefs.get(r.name)! };
    }
    return { side: 'b', i };
  });
  const simTo: (Ref | null)[] = sim.map((r, i) => {
    if (DROP.has(r.kind)) return null;
    let key = '';
    if (r.kind === K.INT) key = `int:${r.name}`;
    else if (r.kind === K.TYPEDEF) key = `typedef:${r.name}`;
    else if (r.kind === K.FWD) {
      if (simDefs.has(r.name)) return { side: 's', i: simDefs.get(r.name)! };
      key = `${r.kflag ? 'union' : 'struct'}:${r.name}`;
    }
    const bi = key ? baseByKey.get(key) : undefined;
    if (bi !== undefined && baseTo[bi]?.side === 'b') return { side: 'b', i: bi };
    if (bi !== undefined && baseTo[bi]) return baseTo[bi];
    return { side: 's', i };
  });
  const resolve = (side: 'b' | 's', id: number): Ref | null => {
    if (id === 0) return null;
    return side === 'b' ? baseTo[id - 1]! : simTo[id - 1]!;
  };

  // Keep: every base record placed as itself; sim records reachable from kept records.
  const keepSim = new Set<number>();
  const work: number[] = [];
  const reach = (ref: Ref | null) => { if (ref?.side === 's' && !keepSim.has(ref.i)) { keepSim.add(ref.i); work.push(ref.i); } };
  base.forEach((r, i) => {
    if (baseTo[i]?.side !== 'b' || baseTo[i]!.i !== i) return;
    for (const x of refs(r)) reach(resolve('b', x.get()));
  });
  sim.forEach((r, i) => {
    if (simTo[i]?.side === 's' && simTo[i]!.i === i && r.name && (isComposite(r.kind) || isEnum(r.kind))) reach({ side: 's', i });
  });
  while (work.length) {
    const i = work.pop()!;
    for (const x of refs(sim[i]!)) reach(resolve('s', x.get()));
  }

  // New ids.
  const newBase = new Map<number, number>();
  const newSim = new Map<number, number>();
  const out: Rec[] = [];
  base.forEach((r, i) => {
    if (baseTo[i]?.side === 'b' && baseTo[i]!.i === i) { out.push(r); newBase.set(i, out.length); }
  });
  sim.forEach((r, i) => {
    if (keepSim.has(i) && simTo[i]?.side === 's' && simTo[i]!.i === i) { out.push(r); newSim.set(i, out.length); }
  });
  const newId = (side: 'b' | 's', id: number): number => {
    const ref = resolve(side, id);
    if (!ref) {
      if (id === 0) return 0;
      throw new Error(`a kept type refers to dropped ${side === 'b' ? 'base' : 'simulated'} type ${id}`);
    }
    const n = ref.side === 'b' ? newBase.get(ref.i) : newSim.get(ref.i);
    if (n === undefined) throw new Error(`type ${ref.side}${ref.i + 1} was not kept`);
    return n;
  };
  const baseSet = new Set(newBase.keys());
  // Rewrite references (the records are fresh objects from parse, so in-place is fine).
  const fromBase = new Set<Rec>([...baseSet].map((i) => base[i]!));
  for (const r of out) {
    const side = fromBase.has(r) ? 'b' : 's';
    for (const x of refs(r)) x.set(newId(side, x.get()));
  }
  return encode(out);
}

if (process.argv[1]?.endsWith('merge-btf.js')) {
  const [basePath, outPath] = process.argv.slice(2);
  if (!basePath || !outPath) {
    process.stderr.write('usage: merge-btf.js BASE_BTF OUT\n');
    process.exit(2);
  }
  writeFileSync(outPath, mergeBtf(readFileSync(basePath), kernelBtf().bytes));
}
