// .BTF and .BTF.ext parsers: hand-built blobs covering all 19 kinds and each error path, and
// facts about the committed fixtures (elf-loading.md §2.1–§2.6).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf, type ElfFile } from '../src/elf/elf.js';
import { parseBtf, type BtfType } from '../src/btf/btf.js';
import { parseBtfExt } from '../src/btf/ext.js';
import { PROJECT_ROOT } from './suite.js';
import { throwsLoad } from './helpers.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'elf');
const loadElf = (name: string): ElfFile => parseElf(new Uint8Array(readFileSync(join(FIXTURES, `${name}.o`))));
const sectionData = (elf: ElfFile, name: string): Uint8Array => {
  const s = elf.sectionByName(name);
  assert.ok(s, `no section ${name}`);
  return s.data;
};

// ---- A tiny BTF assembler: types are u32 words, strings are interned by name. ----

class Strings {
  private readonly parts: string[] = [''];
  private readonly offs = new Map<string, number>([['', 0]]);
  private size = 1;
  off(s: string): number {
    let o = this.offs.get(s);
    if (o === undefined) {
      o = this.size;
      this.offs.set(s, o);
      this.parts.push(s);
      this.size += Buffer.byteLength(s) + 1;
    }
    return o;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.from(this.parts.map((p) => `${p}\0`).join('')));
  }
}

const info = (kind: number, vlen = 0, kflag = 0) => ((kflag << 31) | (kind << 24) | vlen) >>> 0;

function u32s(words: readonly number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return b;
}

interface BlobOptions { hdrLen?: number; magic?: number; version?: number; strings?: Uint8Array }

/** header + type words + strings, laid out as clang does (types first). */
function btfBlob(words: readonly number[], strs: Strings, opts: BlobOptions = {}): Uint8Array {
  const hdrLen = opts.hdrLen ?? 24;
  const types = u32s(words);
  const strings = opts.strings ?? strs.bytes();
  const out = new Uint8Array(hdrLen + types.length + strings.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, opts.magic ?? 0xeb9f, true);
  out[2] = opts.version ?? 1;
  dv.setUint32(4, hdrLen, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, types.length, true);
  dv.setUint32(16, types.length, true);
  dv.setUint32(20, strings.length, true);
  if (hdrLen >= 32) { dv.setUint32(24, types.length + strings.length, true); dv.setUint32(28, 0, true); }
  out.set(types, hdrLen);
  out.set(strings, hdrLen + types.length);
  return out;
}

/** One type of every kind, ids in comment order. */
function allKinds(): { words: number[]; s: Strings } {
  const s = new Strings();
  const words = [
    /* 1 INT int */ s.off('int'), info(1), 4, (1 << 24) | 32,
    /* 2 PTR -> 1 */ 0, info(2), 1,
    /* 3 ARRAY int[1] */ 0, info(3), 0, 1, 1, 1,
    /* 4 STRUCT s {int a; int b:3 @35} kflag */ s.off('s'), info(4, 2, 1), 8, s.off('a'), 1, 0, s.off('b'), 1, (3 << 24) | 35,
    /* 5 UNION u {int x} */ s.off('u'), info(5, 1), 4, s.off('x'), 1, 0,
    /* 6 ENUM e signed {NEG=-2, POS=7} */ s.off('e'), info(6, 2, 1), 4, s.off('NEG'), -2 >>> 0, s.off('POS'), 7,
    /* 7 FWD union fw */ s.off('fw'), info(7, 0, 1), 0,
    /* 8 TYPEDEF myint -> 1 */ s.off('myint'), info(8), 1,
    /* 9 VOLATILE -> 8 */ 0, info(9), 8,
    /* 10 CONST -> 9 */ 0, info(10), 9,
    /* 11 RESTRICT -> 2 */ 0, info(11), 2,
    /* 12 FUNC f extern -> 13 */ s.off('f'), info(12, 2), 13,
    /* 13 FUNC_PROTO int (int a, ...) */ 0, info(13, 2), 1, s.off('a'), 1, 0, 0,
    /* 14 VAR v global -> 3 */ s.off('v'), info(14), 3, 1,
    /* 15 DATASEC .data {v @8 size 4, f} */ s.off('.data'), info(15, 2), 16, 14, 8, 4, 12, 0, 0,
    /* 16 FLOAT double */ s.off('double'), info(16), 8,
    /* 17 DECL_TAG arg:arena on param 1 of f */ s.off('arg:arena'), info(17, 0, 0), 12, 1,
    /* 18 TYPE_TAG kptr -> 4 */ s.off('kptr'), info(18), 4,
    /* 19 ENUM64 big unsigned {HUGE=1<<44} */ s.off('big'), info(19, 1), 8, s.off('HUGE'), 0, 0x1000,
    /* 20 ENUM64 signed {M=-1} */ 0, info(19, 1, 1), 8, s.off('M'), 0xffffffff, 0xffffffff,
    /* 21 PTR -> 18 */ 0, info(2), 18,
    /* 22 CONST -> 2 (int *const) */ 0, info(10), 2,
    /* 23 PTR -> 3 (int (*)[1]) */ 0, info(2), 3,
    /* 24 PTR -> 13 (function pointer) */ 0, info(2), 13,
    /* 25 ARRAY [2] of 26 */ 0, info(3), 0, 26, 1, 2,
    /* 26 ARRAY [3] of int */ 0, info(3), 0, 1, 1, 3,
    /* 27 INT _Bool */ s.off('_Bool'), info(1), 1, (4 << 24) | 8,
    /* 28 ENUM unsigned u8-sized {A=200} */ s.off('small'), info(6, 1), 1, s.off('A'), 200,
  ];
  s.off('.text'); // for the .BTF.ext tests
  return { words, s };
}

describe('BTF parser', () => {
  describe('hand-built: all 19 kinds', () => {
    const { words, s } = allKinds();
    const btf = parseBtf(btfBlob(words, s));
    const t = (id: number) => btf.type(id);

    it('decodes every kind with its trailing data', () => {
      assert.equal(btf.typeCount, 29);
      assert.deepEqual(t(0), { kind: 'VOID', id: 0, name: '' });
      assert.deepEqual(t(1), { kind: 'INT', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
      assert.deepEqual(t(2), { kind: 'PTR', id: 2, name: '', type: 1 });
      assert.deepEqual(t(3), { kind: 'ARRAY', id: 3, name: '', type: 1, indexType: 1, nelems: 1 });
      assert.deepEqual(t(4), {
        kind: 'STRUCT', id: 4, name: 's', size: 8,
        members: [{ name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 }, { name: 'b', type: 1, bitOffset: 35, bitfieldSize: 3 }],
      });
      assert.deepEqual(t(5), { kind: 'UNION', id: 5, name: 'u', size: 4, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] });
      assert.deepEqual(t(6), { kind: 'ENUM', id: 6, name: 'e', size: 4, signed: true, values: [{ name: 'NEG', value: -2 }, { name: 'POS', value: 7 }] });
      assert.deepEqual(t(7), { kind: 'FWD', id: 7, name: 'fw', fwdKind: 'union' });
      assert.deepEqual(t(8), { kind: 'TYPEDEF', id: 8, name: 'myint', type: 1 });
      assert.deepEqual([t(9).kind, t(10).kind, t(11).kind], ['VOLATILE', 'CONST', 'RESTRICT']);
      assert.deepEqual(t(12), { kind: 'FUNC', id: 12, name: 'f', type: 13, linkage: 'extern' });
      assert.deepEqual(t(13), { kind: 'FUNC_PROTO', id: 13, name: '', returnType: 1, params: [{ name: 'a', type: 1 }], variadic: true });
      assert.deepEqual(t(14), { kind: 'VAR', id: 14, name: 'v', type: 3, linkage: 'global' });
      assert.deepEqual(t(15), { kind: 'DATASEC', id: 15, name: '.data', size: 16, vars: [{ type: 14, offset: 8, size: 4 }, { type: 12, offset: 0, size: 0 }] });
      assert.deepEqual(t(16), { kind: 'FLOAT', id: 16, name: 'double', size: 8 });
      assert.deepEqual(t(17), { kind: 'DECL_TAG', id: 17, name: 'arg:arena', type: 12, componentIdx: 1, attribute: false });
      assert.deepEqual(t(18), { kind: 'TYPE_TAG', id: 18, name: 'kptr', type: 4, attribute: false });
      assert.deepEqual(t(19), { kind: 'ENUM64', id: 19, name: 'big', size: 8, signed: false, values: [{ name: 'HUGE', value: 1n << 44n }] });
      const minus = t(20);
      assert.ok(minus.kind === 'ENUM64' && minus.values[0]!.value === -1n && minus.signed);
      const bool = t(27);
      assert.ok(bool.kind === 'INT' && bool.bool && !bool.signed);
    });

    it('resolves modifiers, sizes and scalar info', () => {
      assert.equal(btf.resolve(10).id, 1);
      assert.equal(btf.resolve(18).id, 4);
      assert.equal(btf.resolve(2).id, 2);
      const sizes = [[1, 4], [2, 8], [3, 4], [4, 8], [5, 4], [6, 4], [10, 4], [15, 16], [16, 8], [18, 8], [19, 8], [25, 24]];
      for (const [id, size] of sizes) assert.equal(btf.sizeOf(id!), size, `sizeOf(${id})`);
      for (const id of [0, 7, 12, 13, 14, 17]) throwsLoad(() => btf.sizeOf(id), `BTF type ${id}`, /has no size/);
      assert.deepEqual(btf.scalarInfo(10), { size: 4, signed: true });
      assert.deepEqual(btf.scalarInfo(6), { size: 4, signed: true });
      assert.deepEqual(btf.scalarInfo(19), { size: 8, signed: false });
      assert.deepEqual(btf.scalarInfo(27), { size: 1, signed: false });
      assert.deepEqual(btf.scalarInfo(28), { size: 1, signed: false });
      for (const id of [0, 2, 3, 4, 16]) assert.equal(btf.scalarInfo(id), undefined);
    });

    it('spells type names the C way', () => {
      const names: Array<[number, string]> = [
        [0, 'void'], [1, 'int'], [2, 'int *'], [3, 'int[1]'], [4, 'struct s'], [5, 'union u'], [6, 'enum e'],
        [7, 'union fw'], [10, 'const volatile myint'], [11, 'int *restrict'], [12, 'int f(int, ...)'],
        [13, 'int (int, ...)'], [14, 'int v[1]'], [16, 'double'], [21, 'struct s __tag(kptr) *'],
        [22, 'int *const'], [23, 'int (*)[1]'], [24, 'int (*)(int, ...)'], [25, 'int[2][3]'], [19, 'enum big'],
      ];
      for (const [id, name] of names) assert.equal(btf.typeName(id), name, `typeName(${id})`);
    });

    it('finds types by name and kind', () => {
      assert.equal(btf.findByName('s')?.id, 4);
      assert.equal(btf.findByName('f', 'FUNC')?.linkage, 'extern');
      assert.equal(btf.findByName('f', 'VAR'), undefined);
      assert.equal(btf.datasec('.data')?.vars.length, 2);
      assert.equal(btf.datasec('.bss'), undefined);
      assert.equal(btf.string(s.off('kptr')), 'kptr');
    });

    it('returns frozen types', () => {
      const st = t(4);
      assert.ok(Object.isFrozen(st) && Object.isFrozen(btf.types) && st.kind === 'STRUCT' && Object.isFrozen(st.members[1]));
    });

    it('accepts hdr_len 32 (layout_off/layout_len)', () => {
      assert.equal(parseBtf(btfBlob(words, s, { hdrLen: 32 })).typeCount, 29);
    });
  });

  describe('malformed .BTF', () => {
    const s = new Strings();
    const int = [s.off('int'), info(1), 4, (1 << 24) | 32];

    it('rejects a bad header', () => {
      const good = btfBlob(int, s);
      throwsLoad(() => parseBtf(good.subarray(0, 20)), 'BTF header', /truncated: 20 bytes/);
      throwsLoad(() => parseBtf(btfBlob(int, s, { magic: 0x1234 })), 'BTF header', /bad magic 0x1234/);
      throwsLoad(() => parseBtf(btfBlob(int, s, { magic: 0x9feb })), 'BTF header', /big-endian BTF/);
      throwsLoad(() => parseBtf(btfBlob(int, s, { version: 2 })), 'BTF header', /unsupported version 2/);
      const short = good.slice();
      short[4] = 16;
      throwsLoad(() => parseBtf(short), 'BTF header', /hdr_len 16 is not in/);
      throwsLoad(() => parseBtf(good.subarray(0, good.length - 3)), 'BTF header', /string section .* past the end/);
      const badLen = good.slice();
      new DataView(badLen.buffer).setUint32(12, 1000, true);
      throwsLoad(() => parseBtf(badLen), 'BTF header', /type section \(1000 bytes/);
    });

    it('rejects a bad string table', () => {
      throwsLoad(() => parseBtf(btfBlob(int, s, { strings: new Uint8Array([0x69, 0]) })), 'BTF header', /does not start with the empty string/);
      throwsLoad(() => parseBtf(btfBlob(int, s, { strings: new Uint8Array([0, 0x69]) })), 'BTF header', /does not end with a NUL/);
      throwsLoad(() => parseBtf(btfBlob([9999, info(1), 4, 32], s)), 'BTF type 1', /string offset 0x270f is outside the string section/);
      throwsLoad(() => parseBtf(btfBlob([...int, s.off('s'), info(4, 1), 4, 500, 1, 0], s)), 'BTF type 2 member 0', /string offset 0x1f4/);
    });

    it('rejects unknown kinds and truncated trailing data', () => {
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(20), 0], s)), 'BTF type 2', /unknown kind 20/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(0), 0], s)), 'BTF type 2', /unknown kind 0/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(4, 5), 8, 0, 1, 0], s)), 'BTF type 2', /5 members at 0x1c \(\+60\) is past the end/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(1)], s)), 'BTF type 2', /type header/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(12, 3), 0], s)), 'BTF type 2', /unknown linkage 3/);
      throwsLoad(() => parseBtf(btfBlob([s.off('int'), info(1), 4, 40], s)), 'BTF type 1', /cannot hold 40 bits/);
    });

    it('rejects references to missing or wrong-kind types, and loops', () => {
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(2), 5], s)), 'BTF type 2', /PTR refers to type 5, but there are only 3/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(3), 0, 1, 9, 4], s)), 'BTF type 2', /ARRAY refers to type 9/);
      throwsLoad(() => parseBtf(btfBlob([...int, s.off('f'), info(12), 1], s)), 'BTF type 2', /FUNC refers to type 1, a INT, where FUNC_PROTO is required/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(15, 1), 0, 1, 0, 4], s)), 'BTF type 2', /DATASEC refers to type 1, a INT, where VAR or FUNC/);
      throwsLoad(() => parseBtf(btfBlob([s.off('a'), info(8), 2, s.off('b'), info(10), 1], s)), /BTF type [12]/, /reference loop/);
      // A loop through a struct member is legal (struct list { struct list *next; }).
      const list = parseBtf(btfBlob([s.off('list'), info(4, 1), 8, s.off('next'), 2, 0, 0, info(2), 1], s));
      assert.equal(list.typeName(2), 'struct list *');
      throwsLoad(() => list.type(3), 'BTF', /type id 3 is out of range \(3 types\)/);
      throwsLoad(() => list.string(999), 'BTF', /string offset 0x3e7/);
    });
  });

  describe('kernel limits (kernel/bpf/btf.c)', () => {
    const s = new Strings();
    const int = [s.off('int'), info(1), 4, (1 << 24) | 32];

    it('caps an INT at 16 bytes and 128 bits (btf_int_check_meta)', () => {
      // A 0x7fffffff-byte INT once made a kconfig extern 2 GiB.
      throwsLoad(() => parseBtf(btfBlob([s.off('int'), info(1), 0x7fffffff, 32], s)), 'BTF type 1', /Invalid int size 2147483647/);
      throwsLoad(() => parseBtf(btfBlob([s.off('int'), info(1), 17, 32], s)), 'BTF type 1', /Invalid int size 17/);
      throwsLoad(() => parseBtf(btfBlob([s.off('int'), info(1), 16, (8 << 16) | 128], s)), 'BTF type 1', /nr_bits exceeds 128/);
      throwsLoad(() => parseBtf(btfBlob([s.off('int'), info(1), 2, (4 << 16) | 16], s)), 'BTF type 1', /nr_bits exceeds type_size/);
      const i128 = parseBtf(btfBlob([s.off('__int128'), info(1), 16, (1 << 24) | 128], s));
      assert.deepEqual(i128.scalarInfo(1), { size: 16, signed: true });
    });

    it('refuses names of KSYM_NAME_LEN bytes or more, and keeps 511', () => {
      const long = 'x'.repeat(512);
      throwsLoad(() => parseBtf(btfBlob([...int, s.off(long), info(8), 1], s)), 'BTF type 2', /Invalid name: name of 512 bytes/);
      throwsLoad(() => parseBtf(btfBlob([...int, s.off('st'), info(4, 1), 4, s.off(long), 1, 0], s)), 'BTF type 2', /Invalid name: member 0 name/);
      throwsLoad(() => parseBtf(btfBlob([...int, 0, info(13, 1), 1, s.off(long), 1], s)), 'BTF type 2', /Invalid name: param 0 name/);
      const ok = parseBtf(btfBlob([...int, s.off('y'.repeat(511)), info(8), 1], s));
      assert.equal(ok.type(2).name.length, 511);
    });

    it('refuses more than BTF_MAX_TYPE types and BTF over 16 MiB', () => {
      const words: number[] = [];
      for (let i = 1; i <= 0xfffff; i++) words.push(0, info(2), 0); // PTR to void, 12 bytes each
      throwsLoad(() => parseBtf(btfBlob(words, s)), 'BTF type 1048575', /Exceeded max num of types/);
      assert.equal(parseBtf(btfBlob(words.slice(3), s)).typeCount, 0xfffff);
      const huge = btfBlob(int, s, { strings: new Uint8Array(16 * 1024 * 1024 + 1) });
      throwsLoad(() => parseBtf(huge), 'BTF header', /BTF_MAX_SIZE .*E2BIG/);
    });

    /** ARRAY n → ARRAY n-1 → … → INT; `up` makes each ARRAY point to a higher id instead. */
    function arrayChain(n: number, up: boolean, nelems = 2): Uint8Array {
      const words: number[] = up ? [] : [...int];
      for (let i = 1; i <= n; i++) {
        const elem = up ? i + 1 : i;
        words.push(0, info(3), 0, elem, up ? n + 1 : 1, nelems);
      }
      if (up) words.push(...int);
      return btfBlob(words, s);
    }

    it('refuses a chain of more than MAX_RESOLVE_DEPTH unresolved types', () => {
      // Each ARRAY refers to a higher id, so the kernel pushes them all before any resolves.
      throwsLoad(() => parseBtf(arrayChain(10_000, true)), 'BTF type 1', /Exceeded max resolving depth:32/);
      throwsLoad(() => parseBtf(arrayChain(33, true, 1)), 'BTF type 1', /Exceeded max resolving depth:32/);
      // 32 ARRAYs and the INT they end in (a resolve sink, never pushed) fit.
      const ok = parseBtf(arrayChain(32, true, 1));
      assert.equal(ok.sizeOf(1), 4);
      assert.equal(ok.typeName(1), '...[1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1][1]');
    });

    it('walks ~10 000 nested ARRAYs the kernel accepts without recursion', () => {
      // Each ARRAY refers to a lower id, so the kernel resolves them one at a time.
      const btf = parseBtf(arrayChain(10_000, false));
      // ARRAY id k+1 is k levels deep: 4 × 2^30 bytes at id 31 passes U32_MAX.
      throwsLoad(() => btf.sizeOf(10_001), 'BTF type 31', /Array size overflows U32_MAX/);
      assert.equal(btf.sizeOf(30), 4 * 2 ** 29);
      assert.match(btf.typeName(10_001), /^\.\.\.(\[2\])+$/);
      assert.equal(btf.resolve(10_001).id, 10_001);
    });

    it('spells a FUNC_PROTO fan-out in bounded work', () => {
      // proto k has 16 parameters, each a pointer to proto k-1: 16^40 paths.
      const words = [...int, 0, info(13, 0), 1]; // 2: int (void)
      for (let k = 0; k < 40; k++) {
        const prev = 2 + 2 * k;
        words.push(0, info(2), prev); // pointer to the previous proto
        words.push(0, info(13, 16), 1);
        for (let p = 0; p < 16; p++) words.push(0, prev + 1);
      }
      const btf = parseBtf(btfBlob(words, s));
      const name = btf.typeName(2 + 2 * 40);
      assert.match(name, /\(\*\)\(/);
      assert.ok(name.includes('...'));
      assert.ok(name.length < 100_000, `${name.length} characters`);
    });
  });

  describe('globals.o', () => {
    const elf = loadElf('globals');
    const btf = parseBtf(sectionData(elf, '.BTF'));
    const ext = parseBtfExt(sectionData(elf, '.BTF.ext'), btf);
    const varType = (name: string) => {
      const v = btf.findByName(name, 'VAR');
      assert.ok(v, name);
      return v.type;
    };

    it('has DATASECs for .data/.bss/.rodata but not .rodata.str1.1 (§2.1)', () => {
      const names = (sec: string) => btf.datasec(sec)!.vars.map((v) => btf.type(v.type).name);
      assert.deepEqual(names('.data'), ['counter', 'name', 'delta']);
      assert.deepEqual(names('.bss'), ['total']);
      assert.deepEqual(names('.rodata'), ['limit']);
      assert.equal(btf.datasec('.rodata.str1.1'), undefined);
      // In a .o, DATASEC size is 0 and global VAR offsets are 0 (§2.1).
      assert.equal(btf.datasec('.data')!.size, 0);
      assert.deepEqual(btf.datasec('.data')!.vars.map((v) => [v.offset, v.size]), [[0, 4], [0, 16], [0, 1]]);
    });

    it('types globals for printing', () => {
      assert.equal(btf.typeName(varType('limit')), 'const volatile int');
      assert.equal(btf.typeName(varType('name')), 'char[16]');
      assert.equal(btf.typeName(varType('total')), 'u64');
      assert.deepEqual(btf.scalarInfo(varType('limit')), { size: 4, signed: true });
      assert.deepEqual(btf.scalarInfo(varType('delta')), { size: 1, signed: true });
      assert.deepEqual(btf.scalarInfo(varType('total')), { size: 8, signed: false });
      assert.equal(btf.scalarInfo(varType('name')), undefined);
      assert.equal(btf.sizeOf(varType('name')), 16);
    });

    it('gives function linkage from FUNC vlen', () => {
      assert.equal(btf.findByName('leaf', 'FUNC')?.linkage, 'static');
      assert.equal(btf.findByName('add_total', 'FUNC')?.linkage, 'global');
      assert.equal(btf.typeName(btf.findByName('prog_one')!.id), 'int prog_one(void *)');
    });

    it('reads func_info per section, with byte offsets matching the symbols', () => {
      const show = (sec: string) => ext.funcInfo.get(sec)!.map((f) => [f.insnOff, f.name]);
      assert.deepEqual(show('.text'), [[0, 'add_total'], [72, 'leaf']]);
      assert.deepEqual(show('syscall'), [[0, 'prog_one'], [96, 'prog_two']]);
      assert.equal(ext.coreRelos.size, 0);
    });

    it('reads line_info with source text and relative file names', () => {
      const lines = ext.lineInfo.get('syscall')!;
      assert.equal(lines.length, 10);
      assert.deepEqual(lines[2], { insnOff: 56, fileName: './globals.c', lineText: '\treturn add_total(limit);', line: 33, column: 19 });
      assert.ok([...ext.lineInfo.values()].flat().every((l) => l.fileName === './globals.c'));
      assert.equal(ext.lineInfo.get('.text')![4]!.lineText, '\treturn x * 3 + counter;');
    });
  });

  describe('maps.o', () => {
    const elf = loadElf('maps');
    const btf = parseBtf(sectionData(elf, '.BTF'));
    const ext = parseBtfExt(sectionData(elf, '.BTF.ext'), btf);

    it('encodes the .maps definition in member types (§2.4)', () => {
      const sec = btf.datasec('.maps')!;
      assert.equal(sec.vars.length, 1);
      const v = btf.type(sec.vars[0]!.type);
      assert.ok(v.kind === 'VAR' && v.name === 'stats');
      const def = btf.resolve(v.type);
      assert.ok(def.kind === 'STRUCT');
      assert.deepEqual(def.members.map((m) => m.name), ['type', 'max_entries', 'key', 'value', 'map_extra']);
      const member = (n: string) => def.members.find((m) => m.name === n)!.type;
      const uintOf = (n: string) => {
        const p = btf.type(member(n));
        assert.ok(p.kind === 'PTR');
        const a = btf.type(p.type);
        assert.ok(a.kind === 'ARRAY');
        return a.nelems;
      };
      assert.equal(uintOf('type'), 1);
      assert.equal(uintOf('max_entries'), 1024);
      const pointee = (n: string) => { const p = btf.type(member(n)); assert.ok(p.kind === 'PTR'); return p.type; };
      assert.deepEqual([btf.typeName(pointee('key')), btf.sizeOf(pointee('key'))], ['u32', 4]);
      assert.deepEqual([btf.typeName(pointee('value')), btf.sizeOf(pointee('value'))], ['struct val', 16]);
      const extra: BtfType = btf.type(member('map_extra'));
      assert.ok(extra.kind === 'ENUM64');
      assert.deepEqual(extra.values, [{ name: '__unique_value0', value: 1n << 44n }]);
    });

    it('keeps bitfield offsets and sizes (kflag)', () => {
      const val = btf.findByName('val', 'STRUCT')!;
      assert.deepEqual(val.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
        [['hits', 0, 0], ['last', 64, 0], ['flags', 96, 3], ['mode', 99, 5]]);
    });

    it('lists kfunc externs in DATASEC .ksyms and arena globals in .addr_space.1', () => {
      const names = (sec: string) => btf.datasec(sec)!.vars.map((v) => btf.type(v.type));
      assert.deepEqual(names('.ksyms').map((t) => [t.kind, t.name, t.kind === 'FUNC' && t.linkage]),
        [['FUNC', 'bpf_x', 'extern'], ['FUNC', 'bpf_maybe', 'extern']]);
      assert.deepEqual(names('.addr_space.1').map((t) => t.name), ['arena_table', 'arena_counter']);
      assert.equal(btf.typeName(btf.findByName('arena_table', 'VAR')!.type), 'u64[4]');
    });

    it('reads the CO-RE relocation with its access string (§2.6)', () => {
      const relos = ext.coreRelos.get('syscall')!;
      assert.equal(relos.length, 1);
      const r = relos[0]!;
      assert.deepEqual([r.insnOff, r.kind, r.accessStr], [64, 'FIELD_BYTE_OFFSET', '0:1']);
      assert.equal(btf.typeName(r.typeId), 'struct task___local');
      assert.equal(ext.funcInfo.get('syscall')![0]!.name, 'use_all');
      const line = ext.lineInfo.get('syscall')!.find((l) => l.insnOff === 64)!;
      assert.deepEqual([line.line, line.column, line.lineText], [50, 19, '\tint r = bpf_x(t->pid);']);
    });
  });

  describe('malformed .BTF.ext', () => {
    const { words, s } = allKinds();
    const btf = parseBtf(btfBlob(words, s));

    /** A header of `hdrLen` bytes, then the given subsections (func_info, line_info, core_relo). */
    function ext(subs: ReadonlyArray<readonly number[]>, opts: { hdrLen?: number; magic?: number } = {}): Uint8Array {
      const hdrLen = opts.hdrLen ?? 32;
      const header = [((1 << 16) | (opts.magic ?? 0xeb9f)) >>> 0, hdrLen];
      let off = 0;
      for (let i = 0; i < (hdrLen - 8) / 8; i++) {
        const len = (subs[i]?.length ?? 0) * 4;
        header.push(off, len);
        off += len;
      }
      return u32s([...header, ...subs.flat()]);
    }
    const text = s.off('.text');
    const func = (insnOff: number, typeId = 12) => [8, text, 1, insnOff, typeId];

    it('parses hand-built records, skipping the tail of larger records', () => {
      const wide = [12, text, 2, 0, 12, 0xdead, 16, 12, 0xbeef];
      const line = [16, text, 1, 8, s.off('f'), s.off('int'), (7 << 10) | 3];
      const core = [16, text, 1, 16, 4, s.off('a'), 12];
      const e = parseBtfExt(ext([wide, line, core]), btf);
      assert.deepEqual(e.funcInfo.get('.text'), [{ insnOff: 0, typeId: 12, name: 'f' }, { insnOff: 16, typeId: 12, name: 'f' }]);
      assert.deepEqual(e.lineInfo.get('.text'), [{ insnOff: 8, fileName: 'f', lineText: 'int', line: 7, column: 3 }]);
      assert.deepEqual(e.coreRelos.get('.text'), [{ insnOff: 16, typeId: 4, accessStr: 'a', kind: 'TYPE_MATCHES' }]);
      // hdr_len 24: no core_relo subsection.
      assert.equal(parseBtfExt(ext([func(0)], { hdrLen: 24 }), btf).coreRelos.size, 0);
    });

    it('rejects a bad header', () => {
      throwsLoad(() => parseBtfExt(new Uint8Array(4), btf), '.BTF.ext header', /truncated/);
      throwsLoad(() => parseBtfExt(ext([], { magic: 0x1111 }), btf), '.BTF.ext header', /bad magic 0x1111/);
      throwsLoad(() => parseBtfExt(ext([], { hdrLen: 16 }), btf), '.BTF.ext header', /hdr_len 16 is not in/);
      const cut = ext([func(0)]);
      throwsLoad(() => parseBtfExt(cut.subarray(0, cut.length - 4), btf), '.BTF.ext func_info', /past the end/);
    });

    it('rejects record counts past the end and bad record sizes', () => {
      throwsLoad(() => parseBtfExt(ext([[8, text, 3, 0, 12, 8, 12]]), btf), '.BTF.ext func_info',
        /section '.text' has 3 records of 8 bytes, past the end of func_info \(16 bytes left\)/);
      throwsLoad(() => parseBtfExt(ext([[4, text, 1, 0]]), btf), '.BTF.ext func_info', /rec_size 4 is below 8/);
      throwsLoad(() => parseBtfExt(ext([[], [12, text, 1, 0, 0, 0]]), btf), '.BTF.ext line_info', /rec_size 12 is below 16/);
      throwsLoad(() => parseBtfExt(ext([[8, text, 0]]), btf), '.BTF.ext func_info', /has no records/);
      throwsLoad(() => parseBtfExt(ext([[8, text]]), btf), '.BTF.ext func_info', /block header .* is cut off/);
    });

    it('rejects bad fields in records', () => {
      throwsLoad(() => parseBtfExt(ext([[8, 9999, 1, 0, 12]]), btf), '.BTF.ext func_info', /string offset 0x270f/);
      throwsLoad(() => parseBtfExt(ext([[...func(0, 1)]]), btf), '.BTF.ext func_info record 0', /type_id 1 is not a BTF FUNC/);
      throwsLoad(() => parseBtfExt(ext([[...func(0, 500)]]), btf), '.BTF.ext func_info record 0', /type_id 500 is not a BTF FUNC/);
      throwsLoad(() => parseBtfExt(ext([[8, text, 2, 0, 12, 12, 12]]), btf), '.BTF.ext func_info record 1', /insn_off 0xc is not a multiple of 8/);
      throwsLoad(() => parseBtfExt(ext([[], [16, text, 2, 0, 0, 0, 0, 8, 0, 7777, 0]]), btf), '.BTF.ext line_info record 1', /string offset 0x1e61/);
      throwsLoad(() => parseBtfExt(ext([[], [], [16, text, 1, 0, 1, 0, 13]]), btf), '.BTF.ext core_relo record 0', /unknown CO-RE relocation kind 13/);
      throwsLoad(() => parseBtfExt(ext([[], [], [16, text, 1, 0, 29, 0, 0]]), btf), '.BTF.ext core_relo record 0', /type_id 29 is out of range/);
    });
  });
});
