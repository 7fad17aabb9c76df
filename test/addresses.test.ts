// The simulated address map (src/addresses.ts): the windows are disjoint, and every owner hands
// out addresses inside its own window.
import assert from 'node:assert/strict';
import {
  ADDRESS_MAP, ARENA_KERNEL_WINDOW, ARENA_USER_WINDOW, AddressWindow, CODE_WINDOW, DATA_WINDOW, KSYM_WINDOW, ksymAddress,
  MAP_HANDLE_WINDOW, STACK_WINDOW, USER_SPACE,
} from '../src/addresses.js';
import { defaultUserVmStart, kernVmStartFor } from '../src/arena/geometry.js';
import { toU64 } from '../src/int64.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { AddressSpace } from '../src/memory.js';
import { createMap } from '../src/maps/map.js';
import { CODE_HI, codeAddressLo } from '../src/runtime.js';
import { BPF_MAP_TYPE_ARRAY } from '../src/uapi.js';

const inside = (w: AddressWindow, addr: bigint) => addr >= w.start && addr < w.end;

describe('the simulated address map', () => {
  it('lists disjoint windows in address order', () => {
    for (let k = 1; k < ADDRESS_MAP.length; k++) {
      const [a, b] = [ADDRESS_MAP[k - 1], ADDRESS_MAP[k]];
      assert.ok(a.start < a.end, a.what);
      // The arena user mappings are carved out of user space; every other pair is disjoint.
      if (a === USER_SPACE && b === ARENA_USER_WINDOW) assert.ok(b.start >= a.start && b.end <= a.end);
      else assert.ok(a.end <= b.start, `${a.what} overlaps ${b.what}`);
    }
  });

  it('every owner hands out addresses inside its window', () => {
    const memory = new AddressSpace();
    const data = AddressSpace.address(memory.map('data', new Uint8Array(8)));
    const stack = AddressSpace.address(memory.mapStack(new Uint8Array(512)));
    assert.ok(inside(DATA_WINDOW, data) && inside(STACK_WINDOW, stack));

    const kernel = new SimKernel();
    const handle = kernel.addMap(createMap({ name: 'a', type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, mapExtra: 0n },
      kernel.memory, { nrCpus: 1 }));
    assert.ok(inside(MAP_HANDLE_WINDOW, handle));

    for (const index of [0, 255]) {
      assert.ok(inside(ARENA_KERNEL_WINDOW, kernVmStartFor(index) + (1n << 32n)), `arena ${index}, kernel`);
      assert.ok(inside(ARENA_USER_WINDOW, defaultUserVmStart(1 << 32, index)), `arena ${index}, user`);
    }
    assert.ok(inside(CODE_WINDOW, toU64(codeAddressLo(0), CODE_HI)) && inside(CODE_WINDOW, toU64(codeAddressLo(1 << 20), CODE_HI)));
    assert.ok(inside(KSYM_WINDOW, ksymAddress(0)) && inside(KSYM_WINDOW, ksymAddress(8191)));
  });

  it('a used-up window kind takes back the windows of unmapped regions, so it never runs into the next kind', () => {
    // One region per run with a context: 6015 data windows, then the stacks' if nothing were reused.
    const memory = new AddressSpace();
    const stack = memory.mapStack(new Uint8Array(16));
    const kept = memory.map('kept', new Uint8Array(8));
    for (let k = 0; k < 17_000; k++) {
      const ctx = memory.map('ctx', new Uint8Array(8));
      assert.ok(inside(DATA_WINDOW, AddressSpace.address(ctx)), `region ${k}`);
      memory.unmap(ctx);
    }
    assert.equal(memory.locate(AddressSpace.address(stack), 1)?.region, stack);
    assert.equal(memory.locate(AddressSpace.address(kept), 1)?.region, kept);
  });
});
