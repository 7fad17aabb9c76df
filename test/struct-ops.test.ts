// struct_ops maps as libbpf loads them (sched-ext.md §1.4, elf-loading.md §1.9): progs/struct_ops.bpf.c
// parsed into STRUCT_OPS maps with their member programs and data members, the autoload rule, the
// host-side API, and one LoadError per malformed input (mutated bytes of the same object).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf, R_BPF_64_ABS64 } from '../src/elf/elf.js';
import { parseObject } from '../src/loader/parse.js';
import { openObject } from '../src/object.js';
import { BPF_F_LINK, BPF_MAP_TYPE_STRUCT_OPS } from '../src/uapi.js';
import { throwsLoad } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const FILE = 'struct_ops.bpf.o';
const BYTES = new Uint8Array(readFileSync(join(PROJECT_ROOT, 'progs', FILE)));
const u64 = (n: bigint): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n, true); return b; };

/** A copy of the object with its `.rel.struct_ops.link` entry `k` changed. */
function mutateReloc(k: number, change: { offset?: number; symbol?: number; type?: number }): Uint8Array {
  const elf = parseElf(BYTES);
  const target = elf.sectionByName('.struct_ops.link')!;
  const rel = elf.sections.find((s) => s.name === '.rel.struct_ops.link')!;
  assert.ok(rel && target);
  const out = BYTES.slice();
  const view = new DataView(out.buffer);
  const at = rel.offset + 16 * k;
  if (change.offset !== undefined) view.setBigUint64(at, BigInt(change.offset), true);
  const info = view.getBigUint64(at + 8, true);
  const sym = change.symbol ?? Number(info >> 32n);
  const type = change.type ?? Number(info & 0xffffffffn);
  view.setBigUint64(at + 8, (BigInt(sym) << 32n) | BigInt(type), true);
  return out;
}

describe('struct_ops maps (struct_ops.bpf.o)', function () {
  const spec = parseObject(BYTES, FILE);

  it('makes one STRUCT_OPS map per variable, with the section bytes as value', function () {
    const ops = spec.maps.filter((m) => m.origin === 'struct_ops');
    assert.deepEqual(ops.map((m) => m.name), ['ops_a', 'ops_b', 'ops_c']);
    for (const m of ops) {
      assert.equal(m.type, BPF_MAP_TYPE_STRUCT_OPS);
      assert.equal(m.keySize, 4);
      assert.equal(m.maxEntries, 1);
      assert.equal(m.valueSize, 48);
      assert.equal(m.structOps!.typeName, 'bpfrun_test_ops');
      assert.equal(spec.btf!.type(m.structOps!.typeId).name, 'bpfrun_test_ops');
    }
    const [a, b] = ops;
    assert.equal(a.structOps!.autocreate, true);
    assert.equal(b.structOps!.autocreate, true);
    assert.equal(a.section, '.struct_ops.link');
    assert.equal(a.structOps!.link, true);
    assert.equal(a.flags, BPF_F_LINK);
    assert.equal(b.section, '.struct_ops');
    assert.equal(b.structOps!.link, false);
    assert.equal(b.flags, 0);
    const elf = parseElf(BYTES);
    assert.deepEqual(a.initialValue, elf.sectionByName('.struct_ops.link')!.data.slice(0, 48));
  });

  it('maps function-pointer members to programs and describes data members', function () {
    const a = spec.maps.find((m) => m.name === 'ops_a')!.structOps!;
    assert.deepEqual(a.members.map((m) => [m.name, m.index, m.offset, m.size, m.kind, m.program]), [
      ['init', 0, 0, 8, 'program', 'test_init'],
      ['enqueue', 1, 8, 8, 'program', 'test_enqueue'],
      ['flags', 2, 16, 8, 'data', undefined],
      ['timeout_ms', 3, 24, 4, 'data', undefined],
      ['name', 4, 28, 16, 'data', undefined],
    ]);
    const b = spec.maps.find((m) => m.name === 'ops_b')!.structOps!;
    assert.equal(b.members[0].program, 'test_init_b');
    assert.equal(b.members[1].program, undefined); // enqueue left NULL
  });

  it('gives each struct_ops program the members that reference it, and sets autoload as libbpf does', function () {
    const prog = (n: string) => spec.programs.find((p) => p.name === n)!;
    assert.deepEqual(prog('test_init').structOpsRefs, [{ map: 'ops_a', member: 'init' }]);
    assert.deepEqual(prog('test_enqueue').structOpsRefs, [{ map: 'ops_a', member: 'enqueue' }]);
    assert.deepEqual(prog('test_init_b').structOpsRefs, [{ map: 'ops_b', member: 'init' }]);
    assert.equal(prog('test_init_b').type.sleepable, true);
    assert.deepEqual(prog('orphan').structOpsRefs, []);
    // test_init_b sits in SEC("?struct_ops.s/..."): a created map references it, so libbpf turns
    // its autoload on; orphan (SEC("?struct_ops/orphan")) is referenced by no map and keeps its own.
    assert.equal(spec.programs.find((p) => p.name === 'test_init_b')!.section, 'struct_ops.s/test_init_b');
    assert.deepEqual(spec.programs.map((p) => [p.name, p.autoload]),
      [['test_init', true], ['test_enqueue', true], ['test_init_b', true], ['orphan', false], ['only_c', false]]);
    const obj = openObject(BYTES, FILE);
    assert.equal(obj.autoload('orphan'), false);
    const loaded = obj.load();
    assert.deepEqual(loaded.programs.map((p) => p.name).sort(), ['test_enqueue', 'test_init', 'test_init_b']);
    throwsLoad(() => loaded.program('orphan'), 'program orphan', /not loaded/);
  });

  it('refuses to load a struct_ops program no map member points at (attach_btf_id 0), as the kernel does', function () {
    throwsLoad(() => openObject(BYTES, FILE).setAutoload('orphan', true).load(), 'program orphan',
      /attach_btf_id 0 is not a supported struct/);
  });

  it('refuses struct_ops programs without a GPL-compatible license', function () {
    const elf = parseElf(BYTES);
    const license = elf.sectionByName('license')!;
    const out = BYTES.slice();
    out.set(Buffer.from('MIT\0'), license.offset); // "GPL\0" → "MIT\0"
    assert.equal(parseObject(out, FILE).license, 'MIT');
    throwsLoad(() => openObject(out, FILE).load(), 'program test_init', /GPL compatible license.*EINVAL/);
  });

  it('does not autoload programs referenced only by a ?-prefixed (not created) struct_ops map', function () {
    const c = spec.maps.find((m) => m.name === 'ops_c')!;
    assert.equal(c.section, '?.struct_ops');
    assert.equal(c.structOps!.autocreate, false);
    assert.equal(c.structOps!.link, false);
    assert.equal(c.structOps!.members[0].program, 'only_c');
    const p = spec.programs.find((x) => x.name === 'only_c')!;
    assert.deepEqual(p.structOpsRefs, [{ map: 'ops_c', member: 'init' }]);
    assert.equal(p.autoload, false);
    const loaded = openObject(BYTES, FILE).load();
    assert.deepEqual([...loaded.structOps('ops_c').programs.keys()], []);
    // The host may still turn it on, as bpf_program__set_autoload does.
    const on = openObject(BYTES, FILE).setAutoload('only_c', true).load();
    assert.equal(on.structOps('ops_c').programs.get('init')!.run().retval, 3n);
  });

  it('exposes loaded struct_ops maps: programs by member, data members, and runs a member program', function () {
    const obj = openObject(BYTES, FILE);
    assert.equal(obj.structOpsData('ops_a', 'flags').value, 0x15n);
    assert.equal(obj.structOpsData('ops_a', 'timeout_ms').value, 5000n);
    obj.setStructOpsData('ops_a', 'flags', 0x40);
    const name = new Uint8Array(16); name.set(Buffer.from('renamed'));
    obj.setStructOpsData('ops_a', 'name', name);
    throwsLoad(() => obj.setStructOpsData('ops_a', 'init', 1), 'struct_ops map ops_a', /function pointer/);
    throwsLoad(() => obj.setStructOpsData('ops_a', 'nope', 1), 'struct_ops map ops_a', /no member nope/);
    throwsLoad(() => obj.structOpsData('nomap', 'flags'), 'struct_ops map nomap', /no such struct_ops map/);
    const loaded = obj.load();
    const a = loaded.structOps('ops_a');
    assert.equal(a.typeName, 'bpfrun_test_ops');
    assert.equal(a.link, true);
    assert.deepEqual([...a.programs.keys()], ['init', 'enqueue']);
    assert.equal(a.data('flags').value, 0x40n);
    assert.equal(Buffer.from(a.data('name').bytes).toString('latin1').replace(/\0+$/, ''), 'renamed');
    assert.equal(a.data('timeout_ms').value, 5000n);
    assert.equal(a.programs.get('init')!.run().retval, 42n);
    const ctx = new Uint8Array(16); ctx.set(u64(30n), 0); ctx.set(u64(12n), 8);
    assert.equal(a.programs.get('enqueue')!.run({ ctx }).retval, 42n);
    const b = loaded.structOps('ops_b');
    assert.equal(b.link, false);
    assert.deepEqual([...b.programs.keys()], ['init']);
    assert.equal(b.programs.get('init')!.run().retval, 7n);
    assert.equal(b.data('flags').value, 7n);
    assert.equal(Buffer.from(b.data('name').bytes).toString('latin1').replace(/\0+$/, ''), 'beta');
    throwsLoad(() => loaded.structOps('ops_d'), 'struct_ops map ops_d', /have: ops_a, ops_b, ops_c/);
    // A program turned off by the host is absent from its member.
    const off = openObject(BYTES, FILE).setAutoload('test_enqueue', false).load();
    assert.deepEqual([...off.structOps('ops_a').programs.keys()], ['init']);
  });

  describe('malformed input', function () {
    const elf = parseElf(BYTES);
    const symIndex = (name: string) => elf.symbols.findIndex((s) => s.name === name);

    it('refuses a relocation to a symbol that is not a program', function () {
      throwsLoad(() => parseObject(mutateReloc(0, { symbol: symIndex('ops_b') }), FILE),
        /^relocation 0 of \.struct_ops\.link/, /ops_b .*is not a program/);
      throwsLoad(() => parseObject(mutateReloc(0, { symbol: symIndex('LICENSE') }), FILE),
        /^relocation 0 of \.struct_ops\.link/, /LICENSE .*is not a program/);
    });

    it('refuses a relocation at an offset that is not a member', function () {
      throwsLoad(() => parseObject(mutateReloc(0, { offset: 4 }), FILE),
        /^relocation 0 of \.struct_ops\.link/, /ops_a: no member of bpfrun_test_ops at offset 4/);
      throwsLoad(() => parseObject(mutateReloc(0, { offset: 16 }), FILE),
        /^relocation 0 of \.struct_ops\.link/, /member flags is not a function pointer/);
      // Past the section: the ELF reader refuses it before the struct_ops parser sees it.
      throwsLoad(() => parseObject(mutateReloc(0, { offset: 4096 }), FILE), /\.rel\.struct_ops\.link\), relocation 0$/, /./);
    });

    it('refuses a relocation of another type', function () {
      assert.notEqual(R_BPF_64_ABS64, 1);
      throwsLoad(() => parseObject(mutateReloc(0, { type: 1 }), FILE),
        /^relocation 0 of \.struct_ops\.link/, /type 1 is not R_BPF_64_ABS64/);
    });

    it('refuses a struct_ops variable that is not a struct', function () {
      // Retype VAR ops_a (BTF kind 14) to a scalar: find its record by name offset and info.
      const btfSec = elf.sectionByName('.BTF')!;
      const out = BYTES.slice();
      const view = new DataView(out.buffer, btfSec.offset);
      const hdrLen = view.getUint32(4, true);
      const typeOff = hdrLen + view.getUint32(8, true);
      const typeLen = view.getUint32(12, true);
      const strOff = hdrLen + view.getUint32(16, true);
      const strings = Buffer.from(out.buffer, btfSec.offset + strOff, view.getUint32(20, true));
      const nameOff = strings.indexOf('\0ops_a\0') + 1;
      assert.ok(nameOff > 0);
      const flags = spec.maps.find((m) => m.name === 'ops_a')!.structOps!.members.find((m) => m.name === 'flags')!;
      let patched = false;
      for (let at = typeOff; at + 12 <= typeOff + typeLen; at += 4) {
        if (view.getUint32(at, true) === nameOff && view.getUint32(at + 4, true) === 14 << 24) {
          view.setUint32(at + 8, flags.typeId, true);
          patched = true;
          break;
        }
      }
      assert.ok(patched);
      throwsLoad(() => parseObject(out, FILE), 'struct_ops variable ops_a in .struct_ops.link', /is a INT, not a struct/);
    });
  });
});
