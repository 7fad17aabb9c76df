// Every committed object runs on both engines and the whole outcome must be the same: return
// values, instruction counts, errors, globals, map contents, arena pages and stream text.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KfuncImpl, KfuncSpec } from '../src/kfunc/api.js';
import { BpfError } from '../src/errors.js';
import { EngineName, ENGINES } from '../src/engines.js';
import { BPF_MAP_TYPE_PROG_ARRAY } from '../src/uapi.js';
import { LoadedObject, loadObject } from '../src/object.js';
import { ArenaMap } from '../src/maps/arena.js';
import { PerfEventArrayMap } from '../src/maps/perf-event-array.js';
import { RingBufMap } from '../src/maps/ringbuf.js';
import { arenaTestKfuncs, refTestKfuncs, withCallbackKfunc } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const PROGS = join(PROJECT_ROOT, 'progs');

const kfuncs: Record<string, KfuncImpl | KfuncSpec> = {
  ...Object.fromEntries(refTestKfuncs().map((k) => [k.name, k])),
  ...arenaTestKfuncs,
  bpfrun_test_with_callback: withCallbackKfunc(),
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Everything a run of all programs leaves observable, as plain data. */
function outcome(file: string, engine: EngineName): unknown {
  let obj: LoadedObject;
  try {
    obj = loadObject(join(PROGS, file), { engine, kfuncs });
  } catch (e) {
    // An object the verifier refuses (net_perf_sleepable.bpf.o) is refused alike on every engine.
    if (!(e instanceof BpfError)) throw e;
    return { loadError: e.message };
  }
  const programs = obj.programs.map((p) => {
    let result: unknown;
    try {
      const r = p.run({ instructionBudget: 5_000_000 });
      result = { retval: r.retval.toString(), insns: r.instructions };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      result = { error: e.kind, message: e.message };
    }
    return { name: p.name, result, stdout: p.streams.stdout.text, stderr: p.streams.stderr.text };
  });
  const globals = obj.globals().map((g) => [g.name, hex(g.bytes)]);
  const maps = [...obj.maps].map(([name, m]) => {
    if (m instanceof RingBufMap) return [name, m.consume().map(hex)];
    if (m instanceof PerfEventArrayMap) return [name, m.drain().map((r) => ({ ...r, data: hex(r.data) }))];
    if (m instanceof ArenaMap) {
      const pages = [...m.pageTable.slots.entries()].sort((a, b) => a[0] - b[0]).map(([slot, page]) => [slot, hex(page)]);
      return [name, { allocated: m.pagesAllocated, scratched: m.pagesScratched, pages }];
    }
    if (m.type === BPF_MAP_TYPE_PROG_ARRAY) return [name, 'prog_array'];
    return [name, [...m.entries()].map(([k, v]) => [hex(k), hex(v)])];
  });
  return { programs, globals, maps, trace: obj.trace };
}

describe(`every engine agrees on every object (${ENGINES.join(', ')})`, () => {
  for (const file of readdirSync(PROGS).filter((f) => f.endsWith('.o')).sort()) {
    it(file, () => {
      const [first, ...rest] = ENGINES;
      for (const engine of rest) assert.deepEqual(outcome(file, engine), outcome(file, first), `${engine} vs ${first}`);
    });
  }
});
