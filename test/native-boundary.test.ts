// The error boundary for natives (src/runtime.ts callNative / setReturn): whatever a helper or kfunc
// returns or throws ends as r0 or as a typed NativeError naming it and the call, with the original
// as `cause`, on every engine; malformed kfunc definitions are refused with a LoadError (API) or a
// one-line usage error (CLI), never a raw TypeError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../src/asm/assembler.js';
import { createEngine, ENGINES, EngineName } from '../src/engines.js';
import { causeLines, LoadError, NativeError, RuntimeError } from '../src/errors.js';
import { checkKfuncSpec, defineKfunc, isKfuncSpec, KfuncSpec } from '../src/kfunc/api.js';
import { AddressSpace } from '../src/memory.js';
import { openObject } from '../src/object.js';
import { ExecEnv, HelperDef } from '../src/runtime.js';
import { bpfrun, refTestKfuncs } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const REFS = join(PROJECT_ROOT, 'progs', 'kfunc_refs.bpf.o');
const SLEEPY = 'bpfrun_test_sleepy';

/** Runs `mov r1, 7; call 4; exit` with helper 4 = `fn` on `engine`; returns r0. */
function callHelper(engine: EngineName, fn: HelperDef['fn']): bigint {
  const env: ExecEnv = {
    memory: new AddressSpace(),
    natives: { helpers: new Map([[4, { name: 'hostile_helper', fn }]]), kfuncs: new Map() },
  };
  return createEngine(engine, assemble('mov %r1, 7\ncall 4\nexit'), env).run([]).r0;
}

/** A Proxy every trap of which throws, and one that is revoked. */
const trapping = () => new Proxy({}, {
  get() { throw new Error('get trap'); }, getPrototypeOf() { throw new Error('getPrototypeOf trap'); },
  has() { throw new Error('has trap'); }, ownKeys() { throw new Error('ownKeys trap'); },
});
const revoked = () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; };
/** An Error whose message getter throws. */
const badMessage = () => { const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw new Error('message getter'); } }); return e; };

/** Returns the boundary refuses, with the phrase the message must contain. */
const BAD_RETURNS: Array<[string, () => unknown, RegExp]> = [
  ['a string', () => 'abc', /returned a string \("abc"\)/],
  ['a numeric string', () => '5', /returned a string \("5"\)/],
  ['a boolean', () => true, /returned a boolean \(true\)/],
  ['null', () => null, /returned null/],
  ['a symbol', () => Symbol('s'), /returned a symbol/],
  ['an object', () => ({ value: 1 }), /returned an object/],
  ['an object without a prototype', () => Object.create(null), /returned an object/],
  ['an array', () => [1], /returned an array/],
  ['a function', () => () => 1, /returned a function/],
  ['a Promise (async)', async () => 1, /returned a Promise \(an async function\?/],
  ['a rejected Promise', async () => { throw new Error('later'); }, /returned a Promise/],
  ['a thenable', () => ({ then() { /* never */ } }), /returned an object with a then method/],
  ['a trapping Proxy', trapping, /returned an object/],
  ['a revoked Proxy', revoked, /returned an object/],
  ['1.5', () => 1.5, /returned 1\.5, which is not a safe integer/],
  ['NaN', () => NaN, /returned NaN, which is not a safe integer/],
  ['Infinity', () => Infinity, /returned Infinity/],
  ['2^53', () => 2 ** 53, /returned 9007199254740992, which is not a safe integer/],
  ['2n ** 100n', () => 2n ** 100n, /returned the bigint 1267650600228229401496703205376, which does not fit in 64 bits/],
  ['2n ** 64n', () => 2n ** 64n, /does not fit in 64 bits/],
  ['-(2n ** 63n) - 1n', () => -(2n ** 63n) - 1n, /does not fit in 64 bits/],
];

/** Throws the boundary converts, with the phrase the message must contain. */
const BAD_THROWS: Array<[string, () => unknown, RegExp]> = [
  ['an object without a prototype', () => Object.create(null), /failed: threw an object, not an Error: \[object Object\]/],
  ['a string', () => 'oops', /failed: threw a string, not an Error: oops/],
  ['a symbol', () => Symbol('s'), /failed: threw a symbol, not an Error: Symbol\(s\)/],
  ['undefined', () => undefined, /failed: threw undefined, not an Error: undefined/],
  ['an object whose message getter throws', () => ({ get message() { throw new Error('getter'); }, toString() { throw new Error('toString'); } }),
    /failed: threw an object, not an Error: \[object Object\]/],
  ['an Error whose message getter throws', badMessage, /failed: \[object Error\]/],
  ['a trapping Proxy', trapping, /failed: threw an object, not an Error: /],
  ['a revoked Proxy', revoked, /failed: threw an object, not an Error: /],
  ['a TypeError', () => new TypeError('boom'), /failed: boom/],
];

/** The typed error the boundary makes of `original`, at instruction `index`, from native `name`. */
function assertNativeError(e: unknown, name: string, index: number, phrase: RegExp, original: unknown): true {
  assert.ok(e instanceof NativeError, `expected NativeError, got ${e instanceof Error ? e.stack : typeof e}`);
  assert.ok(e instanceof RuntimeError);
  assert.equal(e.kind, 'runtime');
  assert.equal(e.native, name);
  assert.equal(e.index, index);
  assert.match(e.message, new RegExp(`instruction ${index}: ${name} `));
  assert.match(e.message, phrase);
  if (typeof original === 'function' && typeof e.cause === 'function') assert.equal(typeof e.cause, 'function');
  else if (original !== 'skip') assert.equal(e.cause, original);
  assert.doesNotThrow(() => causeLines(e)); // showing the cause never throws either
  return true;
}

for (const engine of ENGINES) describe(`native boundary on ${engine}: raw programs`, () => {
  for (const [what, make, phrase] of BAD_RETURNS) {
    it(`a helper returning ${what} is a NativeError naming it, the original as cause`, () => {
      let returned: unknown;
      assert.throws(() => callHelper(engine, () => (returned = make()) as never),
        (e: unknown) => assertNativeError(e, 'hostile_helper', 1, phrase, returned));
    });
  }

  for (const [what, make, phrase] of BAD_THROWS) {
    it(`a helper throwing ${what} is a NativeError naming it, the original as cause`, () => {
      let thrown: unknown;
      assert.throws(() => callHelper(engine, () => { thrown = make(); throw thrown; }),
        (e: unknown) => assertNativeError(e, 'hostile_helper', 1, phrase, thrown));
    });
  }

  it('accepted returns: safe integers as signed 64-bit, bigints in [-2^63, 2^64), undefined as 0', () => {
    const cases: Array<[unknown, bigint]> = [
      [undefined, 0n], [0, 0n], [-1, 0xffffffffffffffffn], [2 ** 53 - 1, 2n ** 53n - 1n], [-(2 ** 53 - 1), 2n ** 64n - 2n ** 53n + 1n],
      [2n ** 64n - 1n, 0xffffffffffffffffn], [-1n, 0xffffffffffffffffn], [-(2n ** 63n), 0x8000000000000000n], [2n ** 63n, 0x8000000000000000n],
    ];
    for (const [value, r0] of cases) assert.equal(callHelper(engine, () => value as never), r0, String(value));
  });

  it('a helper ending the run with a BpfError passes through as is', () => {
    const own = new RuntimeError(1, 'my own error');
    assert.throws(() => callHelper(engine, () => { throw own; }), (e: unknown) => e === own);
  });
});

/** kfunc_refs.bpf.o's kfuncs with bpfrun_test_sleepy (called by tc_sleepy) replaced. */
function withSleepy(sleepy: KfuncSpec): KfuncSpec[] {
  return [...refTestKfuncs().filter((k) => k.name !== SLEEPY), sleepy];
}

for (const engine of ENGINES) describe(`native boundary on ${engine}: kfuncs of a loaded object`, () => {
  const run = (sleepy: KfuncSpec) => openObject(REFS).load({ engine, kfuncs: withSleepy(sleepy) }).program('tc_sleepy').run({ data: new Uint8Array(14) });
  const typed = (impl: () => unknown) => defineKfunc({ name: SLEEPY, args: ['scalar'], ret: 'scalar', impl: impl as KfuncSpec['impl'] });
  /** The call's slot in tc_sleepy, read from a run of a kfunc that reports it. */
  const callSlot = (() => {
    let slot = -1;
    return () => {
      if (slot < 0) run(defineKfunc({ name: SLEEPY, args: ['scalar'], ret: 'scalar', impl: ({ ctx }) => { slot = ctx.index; return 0; } }));
      return slot;
    };
  })();

  for (const [what, make, phrase] of [...BAD_RETURNS.filter(([w]) => ['a string', 'a Promise (async)', 'a rejected Promise', 'a boolean',
    'null', '2n ** 100n', 'a thenable'].includes(w))]) {
    it(`a typed kfunc returning ${what} is a NativeError naming it and the program's source line`, () => {
      let returned: unknown;
      assert.throws(() => run(typed(() => (returned = make()))), (e: unknown) => {
        assertNativeError(e, SLEEPY, callSlot(), phrase, returned);
        assert.match((e as Error).message, /^program tc_sleepy: /);
        assert.match((e as Error).message, /kfunc_refs\.bpf\.c:\d+/);
        return true;
      });
    });
  }

  for (const [what, make, phrase] of BAD_THROWS.slice(0, 6)) {
    it(`a typed kfunc throwing ${what} is a NativeError naming it`, () => {
      let thrown: unknown;
      assert.throws(() => run(typed(() => { thrown = make(); throw thrown; })),
        (e: unknown) => assertNativeError(e, SLEEPY, callSlot(), phrase, thrown));
    });
  }

  it('a plain kfunc returning a string is a NativeError too', () => {
    const kfuncs = { ...Object.fromEntries(refTestKfuncs().filter((k) => k.name !== SLEEPY).map((k) => [k.name, k])), [SLEEPY]: () => 'abc' };
    assert.throws(() => openObject(REFS).load({ engine, kfuncs: kfuncs as never }).program('tc_sleepy').run({ data: new Uint8Array(14) }),
      (e: unknown) => assertNativeError(e, SLEEPY, callSlot(), /returned a string/, 'abc'));
  });

  it('an acquire kfunc returning a string is refused by the boundary, not by BigInt()', () => {
    const [acquire, ...rest] = refTestKfuncs();
    const bad = defineKfunc({ ...acquire, impl: () => 'abc' as never });
    assert.throws(() => openObject(REFS).load({ engine, kfuncs: [bad, ...rest] }).program('refs_balanced').run(),
      (e: unknown) => e instanceof NativeError && e.native === 'bpfrun_test_acquire' && /returned a string/.test(e.message));
  });
});

describe('kfunc definitions are checked once, with a LoadError naming the kfunc', () => {
  const ok = { name: 'k', args: ['scalar'], ret: 'scalar', impl: () => 0 };
  const bad: Array<[string, unknown, RegExp]> = [
    ['args not an array', { name: 'k', args: 5, impl: () => 0 }, /'args' must be an array of argument kinds .*not a number/],
    ['an unknown argument kind', { ...ok, args: ['scalar', 'int'] }, /argument 1 is 'int', not one of scalar, arena/],
    ['a non-string argument kind', { ...ok, args: [{}] }, /argument 0 is an object/],
    ['six arguments', { ...ok, args: Array(6).fill('scalar') }, /at most 5 arguments/],
    ['impl not a function', { ...ok, impl: 1 }, /'impl' must be a function, not a number/],
    ['an unknown return kind', { ...ok, ret: 'int' }, /'ret' must be one of void, scalar, pointer or absent, not 'int'/],
    ['flags not an object', { ...ok, flags: 'sleepable' }, /'flags' must be an object or absent, not a string/],
    ['a flag not a boolean', { ...ok, flags: { acquire: 1 } }, /flag 'acquire' must be a boolean, not a number/],
    ['a name not a string', { ...ok, name: 5 }, /'name' must be a string, not a number/],
    ['a name getter that throws', { get name() { throw new Error('name getter'); }, args: [], impl() { /* */ } }, /reading its 'name' threw: name getter/],
    ['an args getter that throws', { name: 'k', get args() { throw Object.create(null); }, impl() { /* */ } }, /reading its 'args' threw: \[object Object\]/],
    ['a Proxy', trapping(), /reading its 'name' threw: get trap/],
    ['not an object', 'k', /a definition is an object with name, args and impl, not a string/],
  ];
  for (const [what, spec, reason] of bad) {
    it(`defineKfunc and isKfuncSpec refuse ${what}`, () => {
      assert.throws(() => defineKfunc(spec as KfuncSpec), (e: unknown) => e instanceof LoadError && reason.test(e.reason));
      assert.equal(isKfuncSpec(spec), false);
    });
  }

  it('each field is read once, into a frozen copy', () => {
    let reads = 0;
    const spec = defineKfunc({ get name() { reads++; return 'k'; }, args: ['scalar'], impl: () => 0 });
    assert.equal(reads, 1);
    assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.args));
    assert.equal(spec.name, 'k');
    assert.equal(reads, 1);
    assert.deepEqual(checkKfuncSpec(ok), ok);
  });

  it('LoadOptions.kfuncs with a malformed entry is a LoadError naming the kfunc', () => {
    const load = (kfuncs: unknown) => openObject(REFS).load({ kfuncs: kfuncs as never });
    const isLoad = (where: string, reason: RegExp) => (e: unknown) => e instanceof LoadError && e.where === where && reason.test(e.reason);
    assert.throws(() => load({ [SLEEPY]: { name: SLEEPY, args: 5, impl: 1 } }), isLoad(`kfunc ${SLEEPY}`, /'args' must be an array/));
    assert.throws(() => load(new Map([[SLEEPY, 42]])), isLoad(`kfunc ${SLEEPY}`, /a definition is an object .* not a number/));
    assert.throws(() => load([{ name: SLEEPY, args: ['scalar'], impl: 'x' }]), isLoad(`kfunc ${SLEEPY}`, /'impl' must be a function/));
    assert.throws(() => load([{ get name() { throw new Error('name getter'); }, args: [], impl() { /* */ } }]),
      isLoad('LoadOptions.kfuncs[0]', /reading its 'name' threw: name getter/));
    assert.throws(() => load(trapping()), isLoad('LoadOptions.kfuncs', /reading it threw: getPrototypeOf trap/));
    assert.throws(() => load(7), isLoad('LoadOptions.kfuncs', /not a number/));
  });
});

/** kfunc_refs.bpf.o's other kfuncs, as a module's lines. */
const OTHER_REF_KFUNCS = [
  "export const acquire = { name: 'bpfrun_test_acquire', args: ['scalar'], ret: 'pointer', impl: () => 0 };",
  "export const release = { name: 'bpfrun_test_release', args: ['mem'], ret: 'void', impl: () => undefined };",
];

describe('the CLI with a hostile kfunc module', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(PROJECT_ROOT, '.kfunc-hostile-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const module = (name: string, lines: string[]) => { const file = join(dir, name); writeFileSync(file, lines.join('\n')); return file; };

  it('a kfunc returning a string: the run reports a one-line typed error, exit status 1', () => {
    const file = module('string.mjs', [
      ...OTHER_REF_KFUNCS,
      `export const sleepy = { name: '${SLEEPY}', args: ['scalar'], ret: 'scalar', impl: () => 'abc' };`,
    ]);
    const r = bpfrun(['run', 'progs/kfunc_refs.bpf.o', '--prog', 'tc_sleepy', '--data-hex', '00'.repeat(14), '--kfuncs', file]);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /); // no stack trace
    assert.match(r.stdout, /^tc_sleepy \(tc\): error: program tc_sleepy: instruction \d+: bpfrun_test_sleepy returned a string \("abc"\); .*kfunc_refs\.bpf\.c:\d+.*$/m);
  });

  it('a kfunc throwing Object.create(null): one line, exit status 1', () => {
    const file = module('nullproto.mjs', [
      ...OTHER_REF_KFUNCS,
      `export const sleepy = { name: '${SLEEPY}', args: ['scalar'], ret: 'scalar', impl: () => { throw Object.create(null); } };`,
    ]);
    const r = bpfrun(['run', 'progs/kfunc_refs.bpf.o', '--prog', 'tc_sleepy', '--data-hex', '00'.repeat(14), '--kfuncs', file]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /bpfrun_test_sleepy failed: threw an object, not an Error: \[object Object\]/);
    assert.doesNotMatch(r.stderr + r.stdout, /TypeError|\n\s+at /);
  });

  for (const [what, lines, reason] of [
    ['a malformed definition', ["export default { name: 'hk', args: 5, impl: 1 };"], /kfunc hk: 'args' must be an array of argument kinds .*, not a number/],
    ['a throwing name getter', ["export default { get name() { throw new Error('name getter'); }, args: [], impl() {} };"],
      /export default: reading its 'name' threw: name getter/],
    ['a module that throws a non-Error', ['throw Object.create(null);'], /cannot load kfunc module .*: \[object Object\]/],
  ] as const) {
    it(`a module with ${what} is a one-line usage error naming the file (exit status 2)`, () => {
      const file = module(`bad-${what.length}.mjs`, [...lines]);
      const r = bpfrun(['run', 'progs/kfunc_refs.bpf.o', '--kfuncs', file]);
      assert.equal(r.status, 2);
      const first = r.stderr.split('\n')[0];
      assert.ok(first.startsWith('bpfrun: ') && first.includes(file), first);
      assert.match(first, reason);
      assert.doesNotMatch(r.stderr, /TypeError|\n\s+at /);
    });
  }
});
