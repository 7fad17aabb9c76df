// ELF reader: facts about the committed fixtures (cross-checked with llvm-readelf-19 -S -r -s),
// one malformed input per error path, and a seeded mutation fuzz over parseElf/parseBtf/parseBtfExt.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadError } from '../src/errors.js';
import {
  parseElf, R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE,
  SHN_ABS, SHN_UNDEF, SHT_NOBITS, SHT_PROGBITS, SHT_REL, SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL,
  STB_WEAK, STT_FILE, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION, type ElfFile,
} from '../src/elf/elf.js';
import { parseBtf } from '../src/btf/btf.js';
import { parseBtfExt } from '../src/btf/ext.js';
import { PROJECT_ROOT } from './suite.js';
import { throwsLoad } from './helpers.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'elf');
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, `${name}.o`)));

function section(elf: ElfFile, name: string) {
  const s = elf.sectionByName(name);
  assert.ok(s, `no section ${name}`);
  return s;
}

function symbol(elf: ElfFile, name: string) {
  const s = elf.symbols.find((x) => x.name === name);
  assert.ok(s, `no symbol ${name}`);
  return s;
}

/** A patchable copy of a fixture, with offsets of its headers from a clean parse. */
class Patch {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly elf: ElfFile;
  constructor(name: string) {
    this.bytes = load(name).slice();
    this.view = new DataView(this.bytes.buffer);
    this.elf = parseElf(this.bytes);
  }
  get shoff(): number {
    return Number(this.view.getBigUint64(40, true));
  }
  /** File offset of section header `name` (+ field offset). */
  shdr(name: string, field = 0): number {
    return this.shoff + section(this.elf, name).index * 64 + field;
  }
  /** File offset of symbol `name` (+ field offset). */
  sym(name: string, field = 0): number {
    return section(this.elf, '.symtab').offset + symbol(this.elf, name).index * 24 + field;
  }
  u16(off: number, v: number): this { this.view.setUint16(off, v, true); return this; }
  u32(off: number, v: number): this { this.view.setUint32(off, v, true); return this; }
  u64(off: number, v: bigint): this { this.view.setBigUint64(off, v, true); return this; }
  parse(): ElfFile { return parseElf(this.bytes); }
}

describe('ELF reader', () => {
  describe('globals.o', () => {
    const elf = parseElf(load('globals'));

    it('lists sections with names, types, flags and sizes as llvm-readelf does', () => {
      assert.equal(elf.sections.length, 32);
      const expect: Array<[string, number, number, number]> = [
        ['.text', SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x78],
        ['syscall', SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0xc8],
        ['.data', SHT_PROGBITS, SHF_WRITE | SHF_ALLOC, 0x15],
        ['.rodata', SHT_PROGBITS, SHF_ALLOC, 4],
        ['.bss', SHT_NOBITS, SHF_WRITE | SHF_ALLOC, 8],
        ['.rodata.str1.1', SHT_PROGBITS, SHF_ALLOC | SHF_MERGE | SHF_STRINGS, 9],
        ['license', SHT_PROGBITS, SHF_WRITE | SHF_ALLOC, 4],
        ['.BTF', SHT_PROGBITS, 0, 0x39c],
        ['.BTF.ext', SHT_PROGBITS, 0, 0x188],
        ['.symtab', SHT_SYMTAB, 0, 0x240],
        ['.strtab', SHT_STRTAB, 0, 0x15b],
      ];
      for (const [name, type, flags, size] of expect) {
        const s = section(elf, name);
        assert.deepEqual([s.type, s.flags, s.size, s.data.length], [type, flags, size, size], name);
      }
      assert.equal(elf.sections[0]!.name, '');
      assert.ok(section(elf, 'syscall').isExec && !section(elf, 'syscall').isWrite);
      assert.ok(section(elf, '.data').isWrite && section(elf, '.data').isAlloc && !section(elf, '.data').isExec);
      assert.equal(section(elf, '.rodata.str1.1').entsize, 1);
      assert.equal(section(elf, 'syscall').addralign, 8);
    });

    it('gives section contents: .data values, NOBITS zeros, string literals, license', () => {
      const data = section(elf, '.data').data;
      const dv = new DataView(data.buffer, data.byteOffset, data.length);
      assert.equal(dv.getInt32(symbol(elf, 'counter').value, true), 7);
      assert.equal(new TextDecoder().decode(data.subarray(4, 10)), 'bpfrun');
      assert.equal(dv.getInt8(symbol(elf, 'delta').value), -3);
      assert.deepEqual([...section(elf, '.bss').data], [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.equal(new TextDecoder().decode(section(elf, '.rodata.str1.1').data), 'hello %d\0');
      assert.equal(new TextDecoder().decode(section(elf, 'license').data), 'GPL\0');
    });

    it('reads symbols: binds, types, values, section symbols named after their section', () => {
      assert.equal(elf.symbols.length, 24);
      assert.deepEqual(elf.symbols[0], { index: 0, name: '', value: 0, size: 0, bind: STB_LOCAL, type: STT_NOTYPE, visibility: 0, shndx: SHN_UNDEF });
      const file = elf.symbols[1]!;
      assert.deepEqual([file.name, file.type, file.shndx], ['globals.c', STT_FILE, SHN_ABS]);
      const text = section(elf, '.text').index;
      const sys = section(elf, 'syscall').index;
      const fn = (n: string) => { const s = symbol(elf, n); return [s.bind, s.type, s.shndx, s.value, s.size]; };
      assert.deepEqual(fn('leaf'), [STB_LOCAL, STT_FUNC, text, 0x48, 48]);
      assert.deepEqual(fn('add_total'), [STB_GLOBAL, STT_FUNC, text, 0, 72]);
      assert.deepEqual(fn('prog_one'), [STB_GLOBAL, STT_FUNC, sys, 0, 96]);
      assert.deepEqual(fn('prog_two'), [STB_GLOBAL, STT_FUNC, sys, 0x60, 104]);
      assert.deepEqual(fn('name'), [STB_GLOBAL, STT_OBJECT, section(elf, '.data').index, 4, 16]);
      assert.deepEqual(fn('total'), [STB_GLOBAL, STT_OBJECT, section(elf, '.bss').index, 0, 8]);
      const str = elf.symbols[5]!;
      assert.deepEqual([str.name, str.type, str.shndx], ['.rodata.str1.1', STT_SECTION, section(elf, '.rodata.str1.1').index]);
    });

    it('keys relocations by sh_info target: .relsyscall → syscall, .rel.text → .text', () => {
      const rel = section(elf, '.relsyscall');
      assert.deepEqual([rel.type, rel.info, rel.link], [SHT_REL, section(elf, 'syscall').index, section(elf, '.symtab').index]);
      const relocs = elf.relocations.get(section(elf, 'syscall').index)!;
      const show = relocs.map((r) => [r.offset, elf.symbols[r.symbolIndex]!.name, r.type]);
      assert.deepEqual(show, [
        [0x00, 'counter', R_BPF_64_64], [0x18, '.rodata.str1.1', R_BPF_64_64], [0x38, 'limit', R_BPF_64_64],
        [0x50, 'add_total', R_BPF_64_32], [0x60, 'delta', R_BPF_64_64], [0x78, 'counter', R_BPF_64_64],
        [0xa0, 'name', R_BPF_64_64], [0xb8, '.text', R_BPF_64_32],
      ]);
      assert.equal(elf.relocations.get(section(elf, '.text').index)!.length, 2);
      assert.equal(elf.relocations.get(section(elf, '.BTF').index)!.length, 6);
      assert.equal(elf.relocations.get(section(elf, '.BTF.ext').index)!.length, 22);
      assert.equal(elf.relocations.get(rel.index), undefined);
    });

    it('returns frozen data', () => {
      assert.ok(Object.isFrozen(elf) && Object.isFrozen(elf.sections) && Object.isFrozen(elf.sections[2]));
      assert.ok(Object.isFrozen(elf.symbols) && Object.isFrozen(elf.symbols[3]));
      assert.ok(Object.isFrozen(elf.relocations.get(2)));
    });
  });

  describe('maps.o', () => {
    const elf = parseElf(load('maps'));

    it('has an empty .text, arena globals in PROGBITS .addr_space.1 and a zeroed .maps', () => {
      assert.deepEqual([section(elf, '.text').size, section(elf, '.text').isExec], [0, true]);
      const arena = section(elf, '.addr_space.1');
      assert.deepEqual([arena.type, arena.flags, arena.size], [SHT_PROGBITS, SHF_WRITE | SHF_ALLOC, 0x24]);
      const table = symbol(elf, 'arena_table');
      const dv = new DataView(arena.data.buffer, arena.data.byteOffset + table.value, 32);
      assert.deepEqual([0, 8, 16, 24].map((o) => dv.getBigUint64(o, true)), [1n, 2n, 3n, 4n]);
      assert.equal(symbol(elf, 'arena_counter').value, 0x20);
      const maps = section(elf, '.maps');
      assert.equal(maps.size, 40);
      assert.ok(maps.data.every((b) => b === 0));
      const stats = symbol(elf, 'stats');
      assert.deepEqual([stats.type, stats.shndx, stats.size], [STT_OBJECT, maps.index, 40]);
    });

    it('reads kfunc externs as undefined NOTYPE symbols, one weak (§1.3)', () => {
      const x = symbol(elf, 'bpf_x');
      const maybe = symbol(elf, 'bpf_maybe');
      assert.deepEqual([x.shndx, x.type, x.bind], [SHN_UNDEF, STT_NOTYPE, STB_GLOBAL]);
      assert.deepEqual([maybe.shndx, maybe.type, maybe.bind], [SHN_UNDEF, STT_NOTYPE, STB_WEAK]);
      assert.equal(elf.sectionByName('.ksyms'), undefined);
      const relocs = elf.relocations.get(section(elf, 'syscall').index)!;
      assert.deepEqual(relocs.map((r) => [r.offset, elf.symbols[r.symbolIndex]!.name, r.type]), [
        [0x20, 'stats', R_BPF_64_64], [0x48, 'bpf_x', R_BPF_64_32], [0x50, 'bpf_maybe', R_BPF_64_64],
        [0x78, 'bpf_maybe', R_BPF_64_32], [0xb8, 'arena_counter', R_BPF_64_64], [0xe8, 'arena_table', R_BPF_64_64],
      ]);
    });

    it('finds the target by sh_info even when the REL section is misnamed', () => {
      const p = new Patch('maps');
      const mapsName = p.view.getUint32(p.shdr('.maps'), true);
      p.u32(p.shdr('.relsyscall'), mapsName); // now called ".maps"
      const elf2 = p.parse();
      assert.equal(elf2.sections[section(elf, '.relsyscall').index]!.name, '.maps');
      assert.equal(elf2.relocations.get(section(elf, 'syscall').index)!.length, 6);
    });
  });

  describe('malformed input', () => {
    it('rejects a truncated header and bad identification bytes', () => {
      const ok = load('globals');
      throwsLoad(() => parseElf(new Uint8Array(0)), 'ELF header', /truncated: 0 bytes/);
      throwsLoad(() => parseElf(ok.subarray(0, 30)), 'ELF header', /truncated: 30 bytes/);
      const patched = (off: number, v: number) => { const b = ok.slice(); b[off] = v; return b; };
      throwsLoad(() => parseElf(patched(0, 0x7e)), 'ELF header', /bad magic/);
      throwsLoad(() => parseElf(patched(4, 1)), 'ELF header', /ELF class 1 is not ELFCLASS64/);
      throwsLoad(() => parseElf(patched(5, 2)), 'ELF header', /big-endian objects are not supported/);
      throwsLoad(() => parseElf(patched(5, 3)), 'ELF header', /unknown data encoding 3/);
    });

    it('rejects a non-relocatable or non-BPF object', () => {
      throwsLoad(() => new Patch('globals').u16(16, 2).parse(), 'ELF header', /e_type 2 is not ET_REL/);
      assert.throws(() => new Patch('globals').u16(18, 62).parse(), { message: 'ELF header: not a BPF object: machine 62 (x86-64)' });
      throwsLoad(() => new Patch('globals').u16(18, 999).parse(), 'ELF header', /^not a BPF object: machine 999$/);
    });

    it('rejects a section header table out of bounds or malformed', () => {
      const p = new Patch('globals');
      throwsLoad(() => p.u64(40, BigInt(p.bytes.length - 100)).parse(), 'ELF header', /section header table .* past the end/);
      throwsLoad(() => new Patch('globals').u64(40, 0n).parse(), 'ELF header', /no section header table/);
      throwsLoad(() => new Patch('globals').u64(40, 1n << 60n).parse(), 'ELF header', /e_shoff 0x1000000000000000 is beyond 2\^53/);
      throwsLoad(() => new Patch('globals').u16(58, 40).parse(), 'ELF header', /e_shentsize 40/);
      throwsLoad(() => new Patch('globals').u16(62, 32).parse(), 'ELF header', /e_shstrndx 32 is not a section/);
      throwsLoad(() => new Patch('globals').u16(62, 2).parse(), 'ELF header', /e_shstrndx 2 is not a STRTAB/);
    });

    it('rejects bad section names and contents past the end of the file', () => {
      const p = new Patch('globals');
      throwsLoad(() => p.u32(p.shdr('.data'), 0xffffff).parse(), 'section 6', /sh_name 0xffffff is outside the section name table/);
      const q = new Patch('globals');
      throwsLoad(() => q.u64(q.shdr('.data', 32), 0x100000n).parse(), 'section 6', /contents .* past the end of the file/);
      const r = new Patch('globals');
      throwsLoad(() => r.u64(r.shdr('.bss', 32), 1n << 40n).parse(), 'section 8', /NOBITS size 0x10000000000 is larger/);
    });

    it('rejects bad symbols', () => {
      const p = new Patch('globals');
      throwsLoad(() => p.u16(p.sym('counter', 6), 40).parse(), 'symbol 17', /st_shndx 40 is not a section/);
      const q = new Patch('globals');
      throwsLoad(() => q.u64(q.sym('counter', 8), 1n << 62n).parse(), 'symbol 17', /st_value .* beyond 2\^53/);
      const r = new Patch('globals');
      throwsLoad(() => r.u32(r.sym('counter'), 0xfffff).parse(), 'symbol 17', /st_name 0xfffff is outside the string table/);
      const s = new Patch('globals');
      throwsLoad(() => s.u64(s.sym('prog_two', 8), 0xc8n).parse(), 'symbol 20', /'prog_two' \(104 bytes at 0xc8\) extends past section 4 \(syscall\)/);
      const t = new Patch('globals');
      throwsLoad(() => t.u64(t.shdr('.symtab', 56), 16n).parse(), 'section 31 (.symtab)', /sh_entsize 16 is not 24/);
    });

    it('rejects bad relocations', () => {
      const rel = (p: Patch, i: number, field: number) => section(p.elf, '.relsyscall').offset + i * 16 + field;
      const p = new Patch('globals');
      throwsLoad(() => p.u32(rel(p, 3, 12), 999).parse(), 'section 5 (.relsyscall), relocation 3', /symbol index 999 is out of range \(24 symbols\)/);
      const q = new Patch('globals');
      throwsLoad(() => q.u64(rel(q, 7, 0), 0xc4n).parse(), 'section 5 (.relsyscall), relocation 7', /offset 0xc4 \(\+8\) is past the end of section 4 \(syscall\) \(200 bytes\)/);
      const r = new Patch('globals');
      throwsLoad(() => r.u32(rel(r, 0, 8), 77).parse(), 'section 5 (.relsyscall), relocation 0', /unknown relocation type 77/);
      const s = new Patch('globals');
      assert.throws(() => s.u32(s.shdr('.relsyscall', 4), 4).parse(), { message: 'section 5 (.relsyscall): RELA relocations are not used by BPF objects' });
      const t = new Patch('globals');
      throwsLoad(() => t.u32(t.shdr('.relsyscall', 44), 99).parse(), 'section 5 (.relsyscall)', /sh_info 99 is not a section/);
      const u = new Patch('globals');
      throwsLoad(() => u.u32(u.shdr('.relsyscall', 40), 2).parse(), 'section 5 (.relsyscall)', /sh_link 2 is not the symbol table/);
    });
  });

  describe('mutation fuzz', function () {
    this.timeout(20000);

    /** xorshift32, so a failure reproduces from its seed. */
    function rng(seed: number): (n: number) => number {
      let x = seed >>> 0 || 1;
      return (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
    }

    /** Header regions worth hitting with 4-byte overwrites: ELF header, section headers, BTF headers. */
    function headerRanges(elf: ElfFile, shoff: number): Array<[number, number]> {
      const out: Array<[number, number]> = [[0, 64], [shoff, shoff + elf.sections.length * 64]];
      for (const n of ['.BTF', '.BTF.ext', '.symtab']) {
        const s = elf.sectionByName(n);
        if (s) out.push([s.offset, s.offset + Math.min(s.size, 64)]);
      }
      return out;
    }

    function mutate(orig: Uint8Array, elf: ElfFile, shoff: number, seed: number): { bytes: Uint8Array; what: string } {
      const r = rng(seed);
      const b = orig.slice();
      switch (r(3)) {
        case 0: {
          const len = r(orig.length);
          return { bytes: b.subarray(0, len), what: `truncate to ${len}` };
        }
        case 1: {
          // Half the flips land in .BTF/.BTF.ext so the BTF parsers see deep damage too.
          const btf = elf.sectionByName(r(2) ? '.BTF' : '.BTF.ext')!;
          const flips: string[] = [];
          for (let i = 0, n = 1 + r(8); i < n; i++) {
            const off = r(2) ? btf.offset + r(btf.size) : r(orig.length);
            const bit = 1 << r(8);
            b[off]! ^= bit;
            flips.push(`${off}^${bit}`);
          }
          return { bytes: b, what: `flip ${flips.join(',')}` };
        }
        default: {
          const ranges = headerRanges(elf, shoff);
          const [lo, hi] = ranges[r(ranges.length)]!;
          const off = lo + r(Math.max(1, hi - lo - 4));
          const v = [0, 0xffffffff, 0x7fffffff, 1 + r(0xffff), r(0x7fffffff)][r(5)]!;
          new DataView(b.buffer).setUint32(off, v >>> 0, true);
          return { bytes: b, what: `u32 ${v >>> 0} at ${off}` };
        }
      }
    }

    /** Parses everything reachable; exercises the BTF queries too. */
    function parseAll(bytes: Uint8Array): void {
      const elf = parseElf(bytes);
      const btfSec = elf.sectionByName('.BTF');
      if (!btfSec) return;
      const btf = parseBtf(btfSec.data);
      for (const t of btf.types) {
        btf.typeName(t.id);
        btf.scalarInfo(t.id);
        try { btf.sizeOf(t.id); } catch (e) { if (!(e instanceof LoadError)) throw e; }
      }
      const ext = elf.sectionByName('.BTF.ext');
      if (ext) parseBtfExt(ext.data, btf);
    }

    for (const name of ['globals', 'maps']) {
      it(`${name}.o: 300 mutations either parse or throw LoadError`, () => {
        const orig = load(name);
        const elf = parseElf(orig);
        const shoff = Number(new DataView(orig.buffer, orig.byteOffset).getBigUint64(40, true));
        let rejected = 0;
        for (let seed = 1; seed <= 300; seed++) {
          const m = mutate(orig, elf, shoff, seed * 7919 + name.length);
          try {
            parseAll(m.bytes);
          } catch (e) {
            if (e instanceof LoadError) { rejected++; continue; }
            assert.fail(`${name}.o seed ${seed} (${m.what}): ${e instanceof Error ? e.stack : String(e)}`);
          }
        }
        assert.ok(rejected > 50, `only ${rejected} of 300 mutations were rejected`);
      });
    }
  });
});
