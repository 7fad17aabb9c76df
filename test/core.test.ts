// CO-RE relocations as libbpf applies them (spec maps-and-kernel-objects §4): progs/core.bpf.c
// against target BTFs built here (test/btf-builder.ts) with other layouts — every relocation
// kind, flavours, several candidates and their pruning, poisoning (an unreached poison is
// harmless; a reached one is a CoreRelocationError naming the relocation as libbpf spells it),
// and the load errors for malformed relocations and target BTFs.
//
// Real-kernel facts (Linux 6.18's /sys/kernel/btf/vmlinux, read once by hand with
// `bpfrun run progs/core.bpf.o --prog task_offsets --btf /sys/kernel/btf/vmlinux`):
// task_struct.pid at 1264, tgid at 1268, comm at 1752, sizeof(struct task_struct) 3264.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBtf } from '../src/btf/btf.js';
import type { CoreRelo } from '../src/btf/ext.js';
import { ENGINES } from '../src/engines.js';
import { CoreRelocationError, LoadError } from '../src/errors.js';
import { insn } from '../src/isa/instruction.js';
import { validate } from '../src/isa/validate.js';
import { applyCoreRelocations, CORE_POISON_IMM, corePoisonInsn, essentialName, loadTargetBtf } from '../src/loader/core.js';
import type { ObjectSpec } from '../src/loader/spec.js';
import { LoadOptions, openObject } from '../src/object.js';
import { BtfBuilder } from './btf-builder.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const CORE = join(PROJECT_ROOT, 'progs', 'core.bpf.o');
const ALL = ['read_fields', 'read_types', 'read_maybe', 'read_mode_c', 'read_big', 'task_offsets'];

interface KernelLayout {
  /** `maybe` (u64 at 40) exists. */
  readonly maybe?: boolean;
  /** `old_x` instead of `pad` at 12. */
  readonly oldX?: boolean;
  /** CORE_MODE_C (30) exists. */
  readonly modeC?: boolean;
  /** enum core_big (CORE_BIG = 0x500000007) exists. */
  readonly big?: boolean;
  /** More types, after the standard ones. */
  readonly more?: (b: BtfBuilder, t: { int: number; uint: number }) => void;
}

/**
 * A target "kernel" BTF: struct core_thing (48 bytes; flags @0, small u32 @4, x @8, pad @12,
 * bits_a int:3 at bit 133, bits_b unsigned:5 at bit 138, name[8] @24, maybe u64 @40),
 * enum core_mode {A = 10, B = 20}, and 6.18's task_struct offsets.
 */
function kernelBtf(layout: KernelLayout = {}): { bytes: Uint8Array; thingId: number } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const uint = b.int('unsigned int', 4);
  const u64 = b.int('unsigned long long', 8);
  const char = b.int('char', 1, true, { char: true });
  const name8 = b.array(char, 8, uint);
  const members = [
    { name: 'flags', type: uint, bitOffset: 0 },
    { name: 'small', type: uint, bitOffset: 32 },
    { name: 'x', type: int, bitOffset: 64 },
    { name: layout.oldX ? 'old_x' : 'pad', type: int, bitOffset: 96 },
    { name: 'bits_a', type: int, bitOffset: 133, bits: 3 },
    { name: 'bits_b', type: uint, bitOffset: 138, bits: 5 },
    { name: 'name', type: name8, bitOffset: 192 },
    ...(layout.maybe ? [{ name: 'maybe', type: u64, bitOffset: 320 }] : []),
  ];
  const thingId = b.struct('core_thing', 48, members);
  b.enum('core_mode', [['CORE_MODE_A', 10], ['CORE_MODE_B', 20], ...(layout.modeC ? [['CORE_MODE_C', 30] as const] : [])]);
  if (layout.big) b.enum64('core_big', [['CORE_BIG', 0x500000007n]]);
  const comm = b.array(char, 16, uint);
  b.struct('task_struct', 3264, [
    { name: 'pid', type: int, bitOffset: 1264 * 8 },
    { name: 'tgid', type: int, bitOffset: 1268 * 8 },
    { name: 'comm', type: comm, bitOffset: 1752 * 8 },
  ]);
  layout.more?.(b, { int, uint });
  return { bytes: b.bytes(), thingId };
}

/** The thing in the target layout. */
function thingBytes(): Uint8Array {
  const out = new Uint8Array(64);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xf1a9, true);
  v.setUint32(4, 0x12345, true);
  v.setInt32(8, 42, true);
  v.setInt32(12, 7, true);
  v.setUint32(16, (0b101 << 5) | (21 << 10), true); // bits_a = -3, bits_b = 21
  out.set(Buffer.from('kernel'), 24);
  v.setBigUint64(40, 0x1122334455667788n, true);
  return out;
}

function load(options: LoadOptions, programs = ALL) {
  const opened = openObject(CORE);
  for (const p of opened.programs) opened.setAutoload(p.name, programs.includes(p.name));
  opened.setGlobal('thing', thingBytes());
  return opened.load(options);
}

/** struct out of core.bpf.c. */
function readOut(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u = (o: number) => v.getUint32(o, true);
  return {
    x: v.getInt32(0, true), flags: u(4), small: u(8), bitsA: v.getInt32(12, true), bitsB: u(16), xOff: u(20), xSize: u(24),
    hasMaybe: u(28), nameOff: u(32), hasOldX: u(36), maybe: v.getBigUint64(40, true), oldX: v.getInt32(48, true), probed: v.getInt32(52, true),
    thingExists: u(56), thingSize: u(60), thingMatches: u(64), modeBExists: u(68), missingExists: u(72), modeB: v.getBigUint64(80, true),
    idLocal: u(88), idKernel: u(92), big: v.getBigUint64(96, true), pidOff: u(104), tgidOff: u(108), commOff: u(112), taskSize: u(116),
  };
}

const localBtf = () => openObject(CORE).spec.btf!;
const localId = (name: string) => localBtf().findByName(name)!.id;

describe('CO-RE: essential names (flavours)', () => {
  it('strip the last X___Y suffix only', () => {
    assert.equal(essentialName('task_struct___old'), 'task_struct');
    assert.equal(essentialName('a___b___c'), 'a___b');
    assert.equal(essentialName('a____b'), 'a____b');
    assert.equal(essentialName('___x'), '___x');
    assert.equal(essentialName('foo___'), 'foo___');
    assert.equal(essentialName('plain'), 'plain');
  });
});

for (const engine of ENGINES) {
  describe(`CO-RE relocations [${engine}]`, () => {
    it('with no target BTF resolve against the object\'s own BTF (values as compiled)', () => {
      const obj = load({ engine });
      for (const p of ALL) obj.program(p).run();
      const o = readOut(obj.global('out').bytes);
      assert.deepEqual([o.xOff, o.xSize, o.hasMaybe, o.nameOff, o.thingExists, o.thingSize, o.thingMatches, o.modeB, o.missingExists],
        [4, 4, 1, 24, 1, 32, 1, 2n, 1]);
      assert.equal(o.idLocal, localId('core_thing___v1'));
      assert.equal(o.idKernel, o.idLocal);
      assert.equal(o.big, 0x100000002n);
      assert.deepEqual([o.pidOff, o.tgidOff, o.commOff, o.taskSize], [0, 4, 8, 24]);
    });

    it('field kinds: offsets, sizes, a widened unsigned load, signed and unsigned bitfields, existence', () => {
      const { bytes } = kernelBtf({ maybe: true });
      const obj = load({ engine, btf: bytes });
      obj.program('read_fields').run();
      const o = readOut(obj.global('out').bytes);
      assert.deepEqual(
        { x: o.x, flags: o.flags, small: o.small, bitsA: o.bitsA, bitsB: o.bitsB, xOff: o.xOff, xSize: o.xSize, hasMaybe: o.hasMaybe, maybe: o.maybe, nameOff: o.nameOff, hasOldX: o.hasOldX, oldX: o.oldX, probed: o.probed },
        { x: 42, flags: 0xf1a9, small: 0x12345, bitsA: -3, bitsB: 21, xOff: 8, xSize: 4, hasMaybe: 1, maybe: 0x1122334455667788n, nameOff: 24, hasOldX: 0, oldX: 0, probed: 42 });
    });

    it('a flavour (core_thing___old) reads the field only the older layout has', () => {
      const obj = load({ engine, btf: kernelBtf({ oldX: true }).bytes });
      obj.program('read_fields').run();
      const o = readOut(obj.global('out').bytes);
      assert.deepEqual([o.hasOldX, o.oldX, o.hasMaybe, o.maybe, o.x], [1, 7, 0, 0n, 42]);
    });

    it('type and enum kinds: exists, size, matches, ids, enumerator existence and value', () => {
      const { bytes, thingId } = kernelBtf({ maybe: true });
      const obj = load({ engine, btf: bytes });
      obj.program('read_types').run();
      obj.program('task_offsets').run();
      const o = readOut(obj.global('out').bytes);
      assert.deepEqual(
        { thingExists: o.thingExists, thingSize: o.thingSize, thingMatches: o.thingMatches, modeBExists: o.modeBExists, modeB: o.modeB, missingExists: o.missingExists, idLocal: o.idLocal, idKernel: o.idKernel },
        // thing does not "match": the target's small is an unsigned int, the local one a short.
        { thingExists: 1, thingSize: 48, thingMatches: 0, modeBExists: 1, modeB: 20n, missingExists: 0, idLocal: localId('core_thing___v1'), idKernel: thingId });
      assert.deepEqual([o.pidOff, o.tgidOff, o.commOff, o.taskSize], [1264, 1268, 1752, 3264]); // Linux 6.18
    });

    it('TYPE_MATCHES is 1 for a target laid out as the local type', () => {
      // The object itself as the target (an ELF with .BTF): core_thing___old is pruned by
      // read_fields' first relocation, so read_types sees core_thing___v1 only.
      const obj = load({ engine, btf: CORE });
      for (const p of ['read_fields', 'read_types']) obj.program(p).run();
      const o = readOut(obj.global('out').bytes);
      assert.deepEqual([o.thingMatches, o.thingSize, o.x, o.hasOldX], [1, 32, 0x12345, 1]);
    });

    it('a guarded poison is harmless; a reached one fails with libbpf\'s relocation spelled out, at its source line', () => {
      const obj = load({ engine, btf: kernelBtf().bytes }); // no maybe, no CORE_MODE_C, no core_big
      obj.program('read_fields').run();
      assert.equal(readOut(obj.global('out').bytes).hasMaybe, 0);
      const thing = localId('core_thing___v1');
      assert.throws(() => obj.program('read_maybe').run(), (e: unknown) => {
        assert.ok(e instanceof CoreRelocationError, String(e));
        assert.equal(e.kind, 'core-relocation');
        assert.equal(e.index, 2);
        assert.equal(e.relocation, `<byte_off> [${thing}] struct core_thing___v1.maybe (0:6 @ offset 16)`);
        assert.match(e.message, /^program read_maybe: instruction 2: <invalid CO-RE relocation>: failed to resolve CO-RE relocation <byte_off> .*core\.bpf\.c:\d+:\d+: return t->maybe;\)$/);
        return true;
      });
      const mode = localId('core_mode___v1');
      assert.throws(() => obj.program('read_mode_c').run(),
        (e: unknown) => e instanceof CoreRelocationError && e.index === 0 && e.relocation === `<enumval_value> [${mode}] enum core_mode___v1::CORE_MODE_C = 3`);
      const big = localId('core_big___v1');
      assert.throws(() => obj.program('read_big').run(),
        (e: unknown) => e instanceof CoreRelocationError && e.index === 0 && e.relocation === `<enumval_value> [${big}] enum64 core_big___v1::CORE_BIG = 4294967298`);
    });

    it('the same programs run once the target has what they need', () => {
      const obj = load({ engine, btf: kernelBtf({ maybe: true, modeC: true, big: true }).bytes });
      assert.equal(obj.program('read_maybe').run().retval, 0x1122334455667788n); // r0 (the C int is its low half)
      assert.equal(obj.program('read_mode_c').run().retval, 30n);
      obj.program('read_big').run();
      assert.equal(readOut(obj.global('out').bytes).big, 0x500000007n);
    });
  });
}

describe('CO-RE: patching and poisoning the instructions', () => {
  const spec = () => openObject(CORE).spec;
  const relocate = (s: ObjectSpec, btf: Uint8Array, programs = ALL) => applyCoreRelocations(s, parseBtf(btf), new Set(programs));
  const prog = (s: ObjectSpec, name: string) => s.programs.find((p) => p.name === name)!;

  it('makes new instruction arrays and leaves the spec as compiled', () => {
    const before = spec();
    const after = relocate(before, kernelBtf({ maybe: true }).bytes);
    assert.notEqual(after, before);
    assert.equal(prog(before, 'read_fields').insns[1]!.off, 4); // w1 = *(u32 *)(r2 + 4)
    assert.equal(prog(after, 'read_fields').insns[1]!.off, 8);
    // out.small: *(u16 *)(r2 + 12) becomes *(u32 *)(r2 + 4).
    assert.equal(prog(before, 'read_fields').insns[6]!.opcode, 0x69); // slot 8 (ld_imm64s take two)
    assert.deepEqual([prog(after, 'read_fields').insns[6]!.opcode, prog(after, 'read_fields').insns[6]!.off], [0x61, 4]);
  });

  it('poisons an ld_imm64 as two calls to 0xbad2310 and records the relocation', () => {
    const after = relocate(spec(), kernelBtf().bytes);
    const big = prog(after, 'read_big');
    assert.deepEqual(big.insns.slice(0, 2).map((i) => [i.opcode, i.src, i.dst, i.off, i.imm]), [[0x85, 0, 0, 0, CORE_POISON_IMM], [0x85, 0, 0, 0, CORE_POISON_IMM]]);
    assert.match(big.corePoisons!.get(0)!.relocation, /^<enumval_value> \[\d+\] enum64 core_big___v1::CORE_BIG = 4294967298$/);
    assert.equal(prog(after, 'read_maybe').insns[1]!.imm, CORE_POISON_IMM);
  });

  it('a poison call is the verifier\'s refusal where it is reached (deferred to the run), unknown#195896080', () => {
    const prog = [corePoisonInsn(), insn(0x95)];
    const refused = new Map<number, string>();
    validate(prog, refused);
    assert.match(refused.get(0)!, /^call unknown#195896080: invalid func unknown#195896080/);
    assert.throws(() => validate(prog), /invalid instruction 0: call unknown#195896080/);
  });

  it('skips programs that are not loaded', () => {
    const before = spec();
    const after = relocate(before, kernelBtf().bytes, ['read_types']);
    assert.equal(prog(after, 'read_maybe'), prog(before, 'read_maybe'));
    assert.notEqual(prog(after, 'read_types'), prog(before, 'read_types'));
  });
});

describe('CO-RE: several candidates', () => {
  const twin = (xOffset: number): LoadOptions => ({
    btf: kernelBtf({
      maybe: true,
      more: (b, { int, uint }) => b.struct('core_thing___2', 48, [
        { name: 'flags', type: uint, bitOffset: 0 }, { name: 'small', type: uint, bitOffset: 32 }, { name: 'x', type: int, bitOffset: xOffset },
      ]),
    }).bytes,
  });

  it('that agree resolve as one', () => {
    const obj = load(twin(64), ['read_fields']);
    obj.program('read_fields').run();
    assert.equal(readOut(obj.global('out').bytes).x, 42);
  });

  it('that disagree fail the load (field offset ambiguity)', () => {
    assert.throws(() => load(twin(96), ['read_fields']), (e: unknown) => e instanceof LoadError
      && /^CO-RE relocation #\d+ of section syscall \(insn \d+\)$/.test(e.where)
      && /prog 'read_fields': relo #\d+: failed to relocate: field offset ambiguity: 96 != 64 .*: EINVAL$/.test(e.reason));
  });

  it('are pruned to those that matched: without read_fields, read_types sees two sizes (decision ambiguity)', () => {
    assert.throws(() => load({ btf: CORE }, ['read_types']), /relocation decision ambiguity: success 4 != success 32/);
    load({ btf: CORE }, ['read_fields', 'read_types']); // read_fields prunes core_thing___old first
  });
});

describe('CO-RE: load errors', () => {
  const spec = () => openObject(CORE).spec;
  const withRelos = (s: ObjectSpec, relos: CoreRelo[]): ObjectSpec => ({ ...s, btfExt: { ...s.btfExt!, coreRelos: new Map([['syscall', relos]]) } });

  it('an instruction that does not hold the local spec\'s value is an error, not an overwrite', () => {
    const s = spec();
    const bad: ObjectSpec = {
      ...s,
      programs: s.programs.map((p) => (p.name === 'read_maybe' ? { ...p, insns: p.insns.map((i, k) => (k === 1 ? { ...i, off: 99 } : i)) } : p)),
    };
    assert.throws(() => applyCoreRelocations(bad, parseBtf(kernelBtf({ maybe: true }).bytes), new Set(['read_maybe'])),
      /unexpected insn \(LDX\/ST\/STX\) value: got 99, exp 16 -> 40: EINVAL/);
  });

  it('a bad access string, an anonymous root, a relocation inside an ld_imm64', () => {
    const s = spec();
    const slot = s.programs.find((p) => p.name === 'read_maybe')!;
    const base = slot.functions[0]!.sectionSlot * 8;
    const thing = localId('core_thing___v1');
    const target = parseBtf(kernelBtf().bytes);
    const one = new Set(['read_maybe']);
    assert.throws(() => applyCoreRelocations(withRelos(s, [{ insnOff: base + 16, typeId: thing, accessStr: '0:99', kind: 'FIELD_BYTE_OFFSET' }]), target, one),
      /relo #0: failed to relocate: parsing \[\d+\] struct core_thing___v1 \+ 0:99 failed: .*: EINVAL/);
    const anon = localBtf().types.find((t) => t.kind === 'STRUCT' && t.name === '')!.id;
    assert.throws(() => applyCoreRelocations(withRelos(s, [{ insnOff: base + 16, typeId: anon, accessStr: '0:0', kind: 'FIELD_BYTE_OFFSET' }]), target, one),
      /relocation doesn't support anonymous types: EOPNOTSUPP/);
    assert.throws(() => applyCoreRelocations(withRelos(s, [{ insnOff: base + 8, typeId: thing, accessStr: '0:1', kind: 'FIELD_BYTE_OFFSET' }]), target, one),
      /points into the middle of an ld_imm64/);
    assert.throws(() => applyCoreRelocations(withRelos(s, [{ insnOff: base + 24, typeId: thing, accessStr: '0:1', kind: 'FIELD_BYTE_OFFSET' }]), target, one),
      /trying to relocate unrecognized insn, code:0x95/);
  });

  it('a target BTF that is not BTF, or cannot be read, is a LoadError naming it', () => {
    assert.throws(() => load({ btf: new Uint8Array([1, 2, 3, 4]) }), (e: unknown) => e instanceof LoadError && e.where === 'target BTF' && /not a valid BTF/.test(e.reason));
    assert.throws(() => loadTargetBtf('/nonexistent/vmlinux'), /target BTF \/nonexistent\/vmlinux: cannot read it/);
    assert.throws(() => loadTargetBtf(join(PROJECT_ROOT, 'package.json')), /target BTF .*package\.json: not a valid BTF: BTF header: bad magic/);
  });
});

describe('CO-RE: bpfrun run --btf', () => {
  it('applies the relocations against the file, and names a reached poison', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfrun-core-'));
    const file = join(dir, 'vmlinux.btf');
    writeFileSync(file, kernelBtf().bytes);
    const ok = bpfrun(['run', CORE, '--prog', 'task_offsets', '--btf', file, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = bpfrun(['run', CORE, '--prog', 'read_maybe', '--btf', file]);
    assert.match(bad.stdout + bad.stderr, /failed to resolve CO-RE relocation <byte_off> \[\d+\] struct core_thing___v1\.maybe \(0:6 @ offset 16\)/);
    const notBtf = bpfrun(['run', CORE, '--btf', join(PROJECT_ROOT, 'package.json')]);
    assert.notEqual(notBtf.status, 0);
    assert.match(notBtf.stderr, /not a valid BTF/);
  });
});
