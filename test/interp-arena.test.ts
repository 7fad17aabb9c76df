// PROBE_MEM32 on every engine, on hand-written programs (spec §1.6–§1.8, §6): addr_space_cast
// both ways, loads/stores/atomics on present and empty arena pages, the exception-table fixups
// and their reports.
import assert from 'node:assert/strict';
import { assemble } from '../src/asm/assembler.js';
import { InvalidInstructionError } from '../src/errors.js';
import { AddressSpace } from '../src/memory.js';
import { ArenaMap } from '../src/maps/arena.js';
import { createMap } from '../src/maps/map.js';
import { BPF_F_MMAPABLE, BPF_F_NO_USER_CONV, BPF_MAP_TYPE_ARENA } from '../src/uapi.js';
import { EngineFrame, ExecEnv } from '../src/runtime.js';
import { createEngine, EngineName, ENGINES } from '../src/engines.js';

const USER = 1n << 44n;

/** The per-kernel rules of the engines' arena view (src/kernel/profile.ts); default: 7.2's. */
type ArenaRules = Pick<NonNullable<ExecEnv['arena']>, 'atomicFaultZeroes' | 'aluNarrowing'>;
const LINUX_6_18: ArenaRules = { atomicFaultZeroes: false, aluNarrowing: 'dst' };

function setupOn(engine: EngineName, flags = BPF_F_MMAPABLE, rules: ArenaRules = {}) {
  const memory = new AddressSpace();
  const arena = createMap({ name: 'arena', type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: 4,
    flags, mapExtra: USER }, memory, { nrCpus: 1 }) as ArenaMap;
  const faults: Array<{ write: boolean; address: bigint; frames: readonly EngineFrame[] }> = [];
  const env: ExecEnv = {
    memory,
    natives: { helpers: new Map(), kfuncs: new Map() },
    arena: {
      userVmStart: arena.userVmStart,
      noUserConv: arena.noUserConv,
      pageAt: (off) => arena.pageAtOffset(off),
      reportFault: (write, address, frames) => { faults.push({ write, address, frames }); },
      ...rules,
    },
  };
  const run = (src: string) => createEngine(engine, assemble(src), env).run().r0;
  return { arena, faults, run, env };
}

for (const engine of ENGINES) describe(`arena accesses (PROBE_MEM32) on ${engine}`, () => {
  const setup = (flags?: number, rules?: ArenaRules) => setupOn(engine, flags, rules);
  it('a present page is read and written through kern_vm_start + (u32)reg + off', () => {
    const { arena, faults, run } = setup();
    arena.allocPages(0n, 1, -1, 0n, true);
    const r0 = run(`
      lddw %r1, ${USER + 0x10n}
      addr_space_cast %r1, %r1, 0, 1
      stdw [%r1+8], 77
      ldxdw %r0, [%r1+8]
      exit`);
    assert.equal(r0, 77n);
    assert.equal(arena.userRead(USER + 0x18n, 1)[0], 77);
    assert.deepEqual(faults, []);
  });

  it('cast_user turns a 32-bit offset into a full user address, NULL stays NULL', () => {
    const { run } = setup();
    assert.equal(run('mov %r1, 0x1234\naddr_space_cast %r0, %r1, 1, 0\nexit'), USER + 0x1234n);
    assert.equal(run('mov %r1, 0\naddr_space_cast %r0, %r1, 1, 0\nexit'), 0n);
    assert.equal(run(`lddw %r1, ${USER + 0x1234n}\naddr_space_cast %r0, %r1, 0, 1\nexit`), 0x1234n);
  });

  it('with BPF_F_NO_USER_CONV both casts keep only the 32-bit offset', () => {
    const { run } = setup(BPF_F_MMAPABLE | BPF_F_NO_USER_CONV);
    assert.equal(run('mov %r1, 0x1234\naddr_space_cast %r0, %r1, 1, 0\nexit'), 0x1234n);
  });

  it('a load from an empty page gives 0 (sign-extending loads too) and reports the exact address', () => {
    const { faults, run } = setup();
    const r0 = run(`
      mov %r1, 0x2000
      mov %r2, -1
      mov %r3, -1
      ldxw %r2, [%r1+4]
      ldxsb %r3, [%r1-1]
      mov %r0, %r2
      or %r0, %r3
      exit`);
    assert.equal(r0, 0n);
    assert.deepEqual(faults.map((f) => [f.write, f.address]), [[false, USER + 0x2004n], [false, USER + 0x1fffn]]);
    assert.deepEqual(faults[0].frames, [{ kind: 'bpf', pc: 3 }]);
  });

  it('a store to an empty page is dropped and reported as WRITE; the page stays empty', () => {
    const { arena, faults, run } = setup();
    run('mov %r1, 0x3000\nstw [%r1+0], 5\nmov %r0, 0\nexit');
    assert.deepEqual(faults.map((f) => [f.write, f.address]), [[true, USER + 0x3000n]]);
    assert.equal(arena.pagesAllocated + arena.pagesScratched, 0);
  });

  const ATOMICS_ON_EMPTY_PAGE = `
      mov %r1, 0x1000
      mov %r2, 7
      lock fetch add [%r1+0], %r2
      mov %r3, 9
      lock xchg [%r1+8], %r3
      mov %r0, 11
      mov %r4, 13
      lock cmpxchg [%r1+16], %r4
      lsh %r2, 16
      lsh %r3, 8
      or %r0, %r2
      or %r0, %r3
      exit`;

  it('Linux 6.18: an atomic on an empty page leaves its registers alone (fetch, xchg, cmpxchg) and reports WRITE', () => {
    const { faults, run } = setup(undefined, LINUX_6_18);
    assert.equal(run(ATOMICS_ON_EMPTY_PAGE), (7n << 16n) | (9n << 8n) | 11n);
    assert.deepEqual(faults.map((f) => f.write), [true, true, true]);
  });

  it('Linux 7.2 (default): a faulting fetch/xchg zeroes src, cmpxchg zeroes r0; reported WRITE at dst + off', () => {
    const { faults, run } = setup();
    assert.equal(run(ATOMICS_ON_EMPTY_PAGE), 0n);
    assert.deepEqual(faults.map((f) => [f.write, f.address]), [[true, USER + 0x1000n], [true, USER + 0x1008n], [true, USER + 0x1010n]]);
    // 32-bit forms zero the whole register too; non-fetch add, store-release and load-acquire keep theirs / zero dst.
    const { run: run2 } = setup();
    assert.equal(run2(`
      mov %r1, 0x1000
      lddw %r2, 0x100000007
      lock fetch add32 [%r1+0], %r2
      mov %r0, %r2
      exit`), 0n);
    const { faults: f3, run: run3 } = setup();
    assert.equal(run3(`
      mov %r1, 0x1000
      mov %r2, 5
      lock add [%r1+0], %r2
      mov %r0, %r2
      exit`), 5n);
    assert.deepEqual(f3.map((f) => f.write), [true]);
  });

  it('load-acquire faults as a READ with dst = 0, store-release as a WRITE; no register is cleared (both kernels)', () => {
    for (const rules of [{}, LINUX_6_18]) {
      const { faults, run } = setup(undefined, rules);
      assert.equal(run(`
        mov %r1, 0x1000
        mov %r0, -1
        ldacqdw %r0, [%r1+8]
        mov %r2, 3
        streldw [%r1+16], %r2
        add %r0, %r2
        exit`), 3n);
      assert.deepEqual(faults.map((f) => [f.write, f.address]), [[false, USER + 0x1008n], [true, USER + 0x1010n]]);
    }
  });

  it('an atomic on a present page is unchanged by the profile', () => {
    for (const rules of [{}, LINUX_6_18]) {
      const { arena, run } = setup(undefined, rules);
      arena.allocPages(0n, 1, -1, 0n, true);
      assert.equal(run(`
        mov %r1, 0
        stdw [%r1+0], 40
        mov %r2, 2
        lock fetch add [%r1+0], %r2
        ldxdw %r0, [%r1+0]
        lsh %r0, 8
        or %r0, %r2
        exit`), (42n << 8n) | 40n);
    }
  });

  it('an unaligned access across a page boundary works when both pages are present (load, store, atomic)', () => {
    const { arena, faults, run } = setup();
    arena.allocPages(0n, 2, -1, 0n, true);
    assert.equal(run(`
      lddw %r1, ${USER}
      addr_space_cast %r1, %r1, 0, 1
      lddw %r2, 0x1122334455667788
      stxdw [%r1+0xffc], %r2
      mov %r3, 1
      lock fetch add [%r1+0xffc], %r3
      ldxdw %r0, [%r1+0xffc]
      exit`), 0x1122334455667789n);
    assert.deepEqual([...arena.userRead(USER + 0xffcn, 8)], [0x89, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    assert.equal(run(`lddw %r1, ${USER}\naddr_space_cast %r1, %r1, 0, 1\nldxh %r0, [%r1+0xfff]\nexit`), 0x4455n);
    assert.deepEqual(faults, []);
  });

  it('an access across into an empty page faults as a whole, reported at its own address', () => {
    const { arena, faults, run } = setup();
    arena.allocPages(0n, 1, -1, 0n, true);
    assert.equal(run(`
      mov %r1, 0
      stdw [%r1+0xff8], -1
      mov %r0, -1
      ldxdw %r0, [%r1+0xffc]
      stw [%r1+0xffe], 7
      exit`), 0n);
    assert.deepEqual(faults.map((f) => [f.write, f.address]), [[false, USER + 0xffcn], [true, USER + 0xffen]]);
    assert.deepEqual([...arena.userRead(USER + 0xff8n, 8)], [255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it('Linux 7.2: ALU64 on an arena pointer is 32-bit (either operand); 6.18 only for an arena dst', () => {
    // r1 = cast_kern(8): PTR_TO_ARENA. r1 -= 16 wraps mod 2^32 on both profiles (arena dst).
    const sub = `mov %r1, 8
addr_space_cast %r1, %r1, 0, 1
sub %r1, 16
mov %r0, %r1
exit`;
    assert.equal(setup().run(sub), 0xfffffff8n);
    assert.equal(setup(undefined, LINUX_6_18).run(sub), 0xfffffff8n);
    assert.equal(setup(undefined, { aluNarrowing: 'none' }).run(sub), 0xfffffffffffffff8n);
    // scalar - arena: narrowed (result an arena pointer) on 7.2 only.
    const scalarDst = `mov %r1, 0x20
addr_space_cast %r1, %r1, 0, 1
mov %r2, 0x10
sub %r2, %r1
mov %r0, %r2
exit`;
    assert.equal(setup().run(scalarDst), 0xfffffff0n);
    assert.equal(setup(undefined, LINUX_6_18).run(scalarDst), 0xfffffffffffffff0n);
    // The arena pointer survives a spill to the stack and a copy; a plain scalar is not narrowed.
    const spilled = `mov %r1, 4
addr_space_cast %r1, %r1, 0, 1
stxdw [%r10-8], %r1
ldxdw %r3, [%r10-8]
mov %r4, %r3
add %r4, -8
mov %r0, %r4
exit`;
    assert.equal(setup().run(spilled), 0xfffffffcn);
    assert.equal(setup().run(`mov %r1, 4
add %r1, -8
mov %r0, %r1
exit`), 0xfffffffffffffffcn);
    // An arena pointer returned by a static subprogram stays one.
    const fromCallee = `call local f
add %r0, -1
exit
f:
mov %r0, 0
addr_space_cast %r0, %r0, 0, 1
exit`;
    assert.equal(setup().run(fromCallee), 0xffffffffn);
  });

  it('x86-64 refuses arena and/or/xor with fetch at load; without fetch, and fetch add, are fine', () => {
    const { env } = setup();
    for (const op of ['fetch and', 'fetch or', 'fetch xor', 'fetch and32', 'fetch or32', 'fetch xor32']) {
      assert.throws(() => createEngine(engine, assemble(`mov %r1, 0\naddr_space_cast %r1, %r1, 0, 1
mov %r2, 1
lock ${op} [%r1+0], %r2
mov %r0, 0
exit`), env),
        (e: unknown) => e instanceof InvalidInstructionError && /BPF_ATOMIC stores into R1 arena is not allowed/.test(e.message), op);
    }
    for (const op of ['and', 'or', 'xor', 'fetch add', 'xchg']) {
      createEngine(engine, assemble(`mov %r1, 0\naddr_space_cast %r1, %r1, 0, 1
mov %r2, 1
lock ${op} [%r1+0], %r2
mov %r0, 0
exit`), env);
    }
  });

  it('the guards: offsets below 0 and past 4 GiB address the 32 KiB half guards (empty, reported)', () => {
    const { faults, run } = setup();
    run('mov %r1, 0\nldxdw %r0, [%r1-8]\nexit');
    run('mov32 %r1, -1\nldxb %r0, [%r1+2]\nexit');
    assert.deepEqual(faults.map((f) => f.address), [USER - 8n, USER + 0x100000001n]);
  });

  it('a program without an arena cannot use addr_space_cast', () => {
    const memory = new AddressSpace();
    assert.throws(() => createEngine(engine, assemble('addr_space_cast %r0, %r1, 0, 1\nexit'), { memory, natives: { helpers: new Map(), kfuncs: new Map() } }),
      (e: unknown) => e instanceof InvalidInstructionError && /associated arena/.test(e.message));
  });
});
