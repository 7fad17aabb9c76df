// The kernel-side fault path on its own (spec §3.3, §5): kfunc code touching arena memory
// through the simulated MMU, bpf_prog_find_from_stack over the shadow stack, the scratch page,
// and the oops for everything the handler does not recover.
import assert from 'node:assert/strict';
import { ArenaKernel, RunningProgram } from '../src/kernel/arena-access.js';
import { kernelApiFor } from '../src/kfunc/bind.js';
import { KernelOopsError, RuntimeError } from '../src/errors.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { ArenaMap } from '../src/maps/arena.js';
import { createMap } from '../src/maps/map.js';
import { BPF_F_MMAPABLE, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY } from '../src/uapi.js';
import { FrameSource } from '../src/runtime.js';

const USER = 1n << 44n;

function setup(withArena = true) {
  const kernel = new SimKernel();
  const arena = createMap({ name: 'arena', type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: 16,
    flags: BPF_F_MMAPABLE, mapExtra: USER }, kernel.memory, { nrCpus: 1 }) as ArenaMap;
  const reports: Array<[boolean, bigint]> = [];
  const program: RunningProgram = {
    name: 'prog',
    arena: withArena ? arena : undefined,
    reportArenaViolation: (isWrite, address) => { reports.push([isWrite, address]); },
    callTrace: () => ['my_kfunc+0x0/0x0', 'bpf_prog_0123456789abcdef_prog+0x10/0x40'],
  };
  const engine: FrameSource = { frames: () => [] };
  const access = new ArenaKernel(kernel, (s) => (s === engine ? program : undefined));
  access.addArena(arena);
  const run = <T>(f: () => T): T => {
    kernel.shadow.push(engine);
    try { return f(); } finally { kernel.shadow.pop(engine); }
  };
  return { kernel, arena, access, reports, run };
}

describe('kernel-side arena access', () => {
  it('a fault on an empty page installs the scratch page, reports the page-aligned address once, and retries', () => {
    const { arena, access, reports, run } = setup();
    const k = arena.kernVmStart + 0x3010n; // page 3, never allocated
    run(() => access.write(k, Uint8Array.of(1, 2, 3, 4), 'my_kfunc'));
    assert.deepEqual(reports, [[true, USER + 0x3000n]]);
    assert.equal(arena.pagesScratched, 1);
    assert.deepEqual([...run(() => access.read(k, 4, 'my_kfunc'))], [1, 2, 3, 4]);
    assert.equal(reports.length, 1, 'later accesses to a scratched page neither fault nor report');
    // The scratch page is shared: another empty slot shows the same bytes once scratched.
    assert.deepEqual([...run(() => access.read(arena.kernVmStart + 0x7010n, 4, 'my_kfunc'))], [1, 2, 3, 4]);
    assert.deepEqual(reports[1], [false, USER + 0x7000n]);
  });

  it('the upper half guard is recovered, the lower guard oopses', () => {
    const { arena, access, reports, run } = setup();
    run(() => access.read(arena.kernVmStart + (1n << 32n) + 0x1000n, 8, 'my_kfunc'));
    assert.equal(reports.length, 1);
    assert.throws(() => run(() => access.read(arena.kernVmStart - 0x1000n, 8, 'my_kfunc')), (e: unknown) => {
      assert.ok(e instanceof KernelOopsError);
      assert.equal(e.access, 'read');
      assert.equal(e.faultIp, 'my_kfunc');
      assert.match(e.message, /^BUG: unable to handle page fault for address: [0-9a-f]{16}\n#PF: supervisor read access in kernel mode\n#PF: error_code\(0x0000\) - not-present page\n/);
      assert.match(e.message, /Call Trace:\n <TASK>\n my_kfunc\+0x0\/0x0\n bpf_prog_0123456789abcdef_prog\+0x10\/0x40\n <\/TASK>$/);
      return true;
    });
    assert.equal(reports.length, 1);
  });

  it('no BPF program on the stack, or one without an arena: oops', () => {
    const a = setup();
    assert.throws(() => a.access.write(a.arena.kernVmStart, Uint8Array.of(1), 'my_kfunc'),
      (e: unknown) => e instanceof KernelOopsError && e.access === 'write' && /error_code\(0x0002\)/.test(e.message));
    const b = setup(false);
    assert.throws(() => b.run(() => b.access.read(b.arena.kernVmStart, 4, 'my_kfunc')), KernelOopsError);
    assert.equal(b.arena.pagesScratched, 0);
  });

  it('allocated pages are read and written directly; allocation over a scratched slot gives a fresh zeroed page', () => {
    const { arena, access, reports, run } = setup();
    const p = arena.allocPages(0n, 1, -1, 0n, true);
    assert.equal(p, USER);
    run(() => access.write(arena.kernVmStart + 8n, Uint8Array.of(9), 'my_kfunc'));
    assert.equal(arena.userRead(USER + 8n, 1)[0], 9);
    run(() => access.write(arena.kernVmStart + 0x1000n, Uint8Array.of(7), 'my_kfunc')); // page 1: scratched
    assert.equal(reports.length, 1);
    assert.equal(arena.allocPages(USER + 0x1000n, 1, -1, 0n, true), USER + 0x1000n); // spec §3.3 final form
    assert.equal(run(() => access.read(arena.kernVmStart + 0x1000n, 1, 'my_kfunc'))[0], 0);
    assert.equal(arena.pagesScratched, 0);
  });

  it('freeing a scratched slot clears it: the next kernel access faults (and reports) again', () => {
    const { arena, access, reports, run } = setup();
    run(() => access.read(arena.kernVmStart + 0x2000n, 4, 'my_kfunc'));
    arena.freePages(USER + 0x2000n, 1, true);
    assert.equal(arena.pagesScratched, 0);
    run(() => access.read(arena.kernVmStart + 0x2000n, 4, 'my_kfunc'));
    assert.equal(reports.length, 2);
  });

  it('the kernel-caller API of the series: bpf_prog_arena, map_kern_vm_start, alloc_pages_sleepable, the __arena rebase', () => {
    const { arena, access, run } = setup();
    const api = kernelApiFor('my_kfunc', access);
    run(() => {
      assert.equal(api.progArena(), arena);
      assert.equal(api.arenaMapKernVmStart(arena), arena.kernVmStart);
      assert.equal(api.arenaKernAddr(USER + 0x5123n), arena.kernVmStart + 0x5123n);
      assert.equal(api.arenaKernAddr(0xbadc0ffe00005123n), arena.kernVmStart + 0x5123n); // only lo32 matters (spec §1.10)
      assert.equal(api.arenaAllocPagesSleepable(arena, 0n, 2, -1, 0n), USER);
      api.writeU64(arena.kernVmStart + 0x1008n, 0x1122334455667788n);
      assert.equal(api.readU64(arena.kernVmStart + 0x1008n), 0x1122334455667788n);
    });
    assert.equal(arena.pagesAllocated, 2);
    assert.equal(api.progArena(), undefined); // no program running
    // One rebase for typed and plain kfuncs (kfunc/bind.ts), one typed error.
    assert.throws(() => api.arenaKernAddr(USER), (e: unknown) => e instanceof RuntimeError && /my_kfunc: arena pointer requires a program with an associated arena/.test(e.message));
  });

  it('the guard stack: the innermost call\'s guard checks arena accesses, popping restores the enclosing one', () => {
    const { kernel, arena, access, run } = setup();
    const seen: string[] = [];
    const guard = (name: string) => (addr: bigint) => { seen.push(`${name} ${addr - arena.kernVmStart}`); };
    const array = createMap({ name: 'a', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, mapExtra: 0n },
      kernel.memory, { nrCpus: 1 });
    run(() => {
      const outer = access.pushGuard(guard('outer'));
      access.read(arena.kernVmStart + 1n, 1, 'k');
      const inner = access.pushGuard(undefined); // an unchecked call inside
      access.read(arena.kernVmStart + 2n, 1, 'k');
      access.pushGuard(guard('innermost')); // left on the stack, as an exception would leave it
      access.read(arena.kernVmStart + 3n, 1, 'k');
      access.read(array.lookupElem(new Uint8Array(4), 0), 1, 'k'); // not an arena window: no guard
      access.popGuard(inner);
      access.read(arena.kernVmStart + 4n, 1, 'k');
      access.popGuard(outer);
      access.read(arena.kernVmStart + 5n, 1, 'k');
    });
    assert.deepEqual(seen, ['outer 1', 'innermost 3', 'outer 4']);
    const refuse = access.pushGuard(() => { throw new Error('refused'); });
    assert.throws(() => run(() => access.write(arena.kernVmStart, Uint8Array.of(1), 'k')), /refused/);
    access.popGuard(refuse);
    assert.equal(run(() => access.read(arena.kernVmStart, 1, 'k'))[0], 0, 'the refused write never reached memory');
  });

  it('non-arena kernel memory (a map value) is reachable; an unmapped address oopses', () => {
    const { kernel, access, run } = setup();
    const array = createMap({ name: 'a', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, mapExtra: 0n },
      kernel.memory, { nrCpus: 1 });
    const addr = array.lookupElem(new Uint8Array(4), 0);
    run(() => access.write(addr, Uint8Array.of(5, 6), 'my_kfunc'));
    assert.deepEqual([...array.lookup(new Uint8Array(4))!.subarray(0, 2)], [5, 6]);
    assert.throws(() => run(() => access.read(0xffff900000000000n, 1, 'my_kfunc')), KernelOopsError);
  });
});
