// Assertions and fixtures shared by the test files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LoadError, MapError } from '../src/errors.js';
import { defineKfunc, KfuncImpl, KfuncSpec } from '../src/kfunc/api.js';
import { LoadedObject, LoadOptions, openObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';
import { errnoName } from '../src/uapi.js';

/**
 * Loads an object with every program, `SEC("?...")` ones too (autoload off by default, as in
 * libbpf): for tests that run those programs on purpose.
 */
export function loadEvery(path: string, options: LoadOptions = {}): LoadedObject {
  const opened = openObject(path);
  for (const p of opened.programs) opened.setAutoload(p.name, true);
  return opened.load(options);
}

/** Asserts that `f` throws a LoadError whose `where` and reason match. */
export function throwsLoad(f: () => unknown, where: string | RegExp, reason: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LoadError, `expected LoadError, got ${String(e)}`);
    if (typeof where === 'string') assert.equal(e.where, where);
    else assert.match(e.where, where);
    assert.match(e.reason, reason);
    return true;
  });
}

/** The TypeScript side of arena_kfunc.bpf.c's test kfuncs: kern_vm_start + lo32(ptr) (+ off). */
export const arenaTestKfuncs: Readonly<Record<string, KfuncImpl>> = {
  bpfrun_test_arena_write: (ctx, k) => { k.writeU32(k.arenaKernAddr(ctx.arg(1)), ctx.argLo(2)); return 0; },
  bpfrun_test_arena_read: (ctx, k) => k.readU32(k.arenaKernAddr(ctx.arg(1))),
  bpfrun_test_arena_read_off: (ctx, k) => k.readU32(k.arenaKernAddr(ctx.arg(1)) + BigInt(ctx.argLo(2))),
};

/** kfunc_refs.bpf.c's test kfuncs: an acquire / release pair, and one that may be flagged sleepable. */
export function refTestKfuncs(sleepy = false): KfuncSpec[] {
  return [
    defineKfunc({
      name: 'bpfrun_test_acquire', args: ['scalar'], ret: 'pointer', flags: { acquire: true },
      impl: ({ args: [key] }) => (key.kind === 'scalar' && key.value !== 0n ? 0xffff888000100000n + key.value * 64n : 0),
    }),
    defineKfunc({ name: 'bpfrun_test_release', args: ['mem'], ret: 'void', flags: { release: true }, impl: () => undefined }),
    defineKfunc({
      name: 'bpfrun_test_sleepy', args: ['scalar'], ret: 'scalar', flags: { sleepable: sleepy },
      impl: ({ args: [x] }) => (x.kind === 'scalar' ? x.value + 1n : 0),
    }),
  ];
}

/**
 * kfunc_nested.bpf.c's outer kfunc, typed: reads its arena argument, calls the callback it was
 * passed (its code address, taken as the `ctx` kind: a pointer passed as is), then reads `after`
 * bytes past its argument; returns what the callback returned.
 */
export function withCallbackKfunc(after = 0n): KfuncSpec {
  return defineKfunc({
    name: 'bpfrun_test_with_callback', args: ['arena', 'ctx'], ret: 'scalar',
    impl: ({ args: [ptr, cb], kernel, ctx }) => {
      assert.ok(ptr.kind === 'arena' && ptr.address !== null && cb.kind === 'ctx');
      kernel.readU32(ptr.address);
      const ret = ctx.callFunction(cb.address, []);
      kernel.readU32(ptr.address + after);
      return ret;
    },
  });
}

/** The built command line. */
export const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli.js');

/** Runs `bpfrun ARGS` as a user does (a child process in the project root, `input` on stdin). */
export function bpfrun(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: PROJECT_ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The errno (0 for success) of a host map call: the number of the MapError's errno name. */
export function errnoOf(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    for (let n = 1; n < 1000; n++) if (errnoName(n) === e.errno) return n;
    throw new Error(`unknown errno ${e.errno}`);
  }
}
