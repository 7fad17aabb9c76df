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

function setupOn(engine: EngineName, flags = BPF_F_MMAPABLE) {
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
    },
  };
  const run = (src: string) => createEngine(engine, assemble(src), env).run().r0;
  return { arena, faults, run };
}

for (const engine of ENGINES) describe(`arena accesses (PROBE_MEM32) on ${engine}`, () => {
  const setup = (flags?: number) => setupOn(engine, flags);
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

  it('an atomic on an empty page leaves its registers alone (fetch, xchg, cmpxchg) and reports WRITE', () => {
    const { faults, run } = setup();
    const r0 = run(`
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
      exit`);
    assert.equal(r0, (7n << 16n) | (9n << 8n) | 11n);
    assert.deepEqual(faults.map((f) => f.write), [true, true, true]);
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
