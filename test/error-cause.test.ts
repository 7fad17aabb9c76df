// Errors chain their cause (ES2022): every BpfError takes `{ cause }`, the loader keeps the error
// it rewraps, and where errors are shown (the CLI, the run report) a host exception from a kfunc
// keeps its stack, so the kfunc's author can find the line that threw.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KfuncImpl } from '../src/kfunc/api.js';
import { parseElf } from '../src/elf/elf.js';
import {
  ArenaSegvError, AsmError, BpfError, BudgetExceededError, CallDepthError, causeLines, causeTexts, DecodeError,
  InvalidInstructionError, isLocated, KernelOopsError, LoadError, MapError, MemoryAccessError, RuntimeError,
  UnknownHelperError, UnknownKfuncError,
} from '../src/errors.js';
import { parseObject } from '../src/loader/parse.js';
import { openObject } from '../src/object.js';
import { formatRunReport, runReportJson } from '../src/report.js';
import { RunData, runPrograms } from '../src/runs.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const THIS_FILE = /error-cause\.test\.js/;
const CPUMASK = join(PROJECT_ROOT, 'progs', 'example_cpumask.bpf.o');
const KFUNC = 'bpfrun_example_fill_cpumask';

/** A host exception as a kfunc throws it, with a stack through this file. */
function thrownByKfunc(message = 'boom'): Error {
  try {
    throw new Error(message);
  } catch (e) {
    return e as Error;
  }
}

/** A RuntimeError as `callNative` builds it from a kfunc's exception. */
const kfuncFailure = (e: Error) => new RuntimeError(12, `${KFUNC} failed: ${e.message}`, { cause: e });

/** Run data with one program that failed with `error`. */
function failedRun(error: BpfError): RunData {
  return {
    engine: ENGINES[0],
    programs: [{ name: 'fill_mask', section: 'syscall', engine: ENGINES[0], streams: { stdout: '', stderr: '' }, error }],
    globals: [], trace: [], events: [], droppedEvents: 0,
  };
}

describe('errors chain their cause', () => {
  it('every BpfError takes { cause } as a trailing option; without it, message and cause are as before', () => {
    const cause = new Error('original');
    const make: Array<(o?: ErrorOptions) => BpfError> = [
      (o) => new DecodeError(3, 'short', o),
      (o) => new InvalidInstructionError(1, 'bad', o),
      (o) => new AsmError(2, 'bad', o),
      (o) => new LoadError('ELF header', 'bad', o),
      (o) => new MapError('m', 'E2BIG', 'full', o),
      (o) => new ArenaSegvError('a', 'read', 0x1000n, 'outside-mapping', o),
      (o) => new MemoryAccessError(4, 'write', 0x10n, 8, 'outside any mapping', o),
      (o) => new BudgetExceededError(5, 100, o),
      (o) => new CallDepthError(6, 8, o),
      (o) => new UnknownHelperError(7, 999, undefined, o),
      (o) => new UnknownKfuncError(8, 'bpf_x', o),
      (o) => new RuntimeError(9, 'failed', o),
      (o) => new KernelOopsError(0xdeadn, 'read', 'bpf_x', ['bpf_prog_x+0x0/0x8'], o),
    ];
    for (const f of make) {
      const plain = f();
      const chained = f({ cause });
      assert.equal(chained.message, plain.message);
      assert.equal(chained.cause, cause, chained.name);
      assert.equal('cause' in plain, false, plain.name);
      assert.deepEqual(causeLines(plain), []);
    }
  });

  it('isLocated: errors about one instruction carry its slot as `index`', () => {
    assert.ok(isLocated(new InvalidInstructionError(3, 'bad')));
    assert.ok(isLocated(new BudgetExceededError(4, 10)));
    assert.equal(isLocated(new LoadError('x', 'y')), false);
    assert.equal(isLocated(new Error('x')), false);
  });

  it('the loader keeps the decode error it rewraps as a LoadError', () => {
    const bytes = new Uint8Array(readFileSync(join(PROJECT_ROOT, 'progs', 'globals.bpf.o')));
    const text = parseElf(bytes).sections.find((s) => s.name === 'syscall')!;
    bytes[text.offset + text.size - 8] = 0x18; // the last slot starts an ld_imm64 with no second half
    assert.throws(() => parseObject(bytes, 'globals.bpf.o'), (e: unknown) => {
      assert.ok(e instanceof LoadError, String(e));
      assert.equal(e.where, 'section syscall');
      assert.ok(e.cause instanceof InvalidInstructionError);
      assert.match(e.cause.message, /ld_imm64 is missing its second half/);
      assert.equal(e.reason, e.cause.message);
      return true;
    });
  });

  describe('display: causeTexts and causeLines', () => {
    it('a kfunc\'s exception under a runtime error shows as its stack', () => {
      const boom = thrownByKfunc();
      const lines = causeLines(kfuncFailure(boom));
      assert.equal(lines[0], 'caused by: Error: boom');
      assert.match(lines[1], /^ {4}at thrownByKfunc \(.*error-cause\.test\.js:\d+:\d+\)$/);
      assert.deepEqual(lines.slice(1), boom.stack!.split('\n').slice(1));
      assert.deepEqual(causeTexts(kfuncFailure(boom)), [boom.stack]);
    });

    it('the kfunc\'s own causes follow, each with its stack; a cycle ends the chain', () => {
      const inner = thrownByKfunc('inner');
      const outer = new Error('outer', { cause: inner });
      assert.deepEqual(causeTexts(kfuncFailure(outer)), [outer.stack, inner.stack]);
      const a = new Error('a');
      const b = new Error('b', { cause: a });
      (a as { cause?: unknown }).cause = b;
      assert.deepEqual(causeTexts(kfuncFailure(b)), [b.stack, a.stack]);
    });

    it('a thrown value that is not an Error shows as text unless the message quotes it', () => {
      assert.deepEqual(causeTexts(new RuntimeError(1, `${KFUNC} failed: 42`, { cause: 42 })), []);
      assert.deepEqual(causeTexts(new RuntimeError(1, `${KFUNC} failed`, { cause: 'a string' })), ['a string']);
    });

    it('bpfrun\'s own errors in the chain add nothing: the rewrap quotes them', () => {
      const decode = new DecodeError(0, 'length 3 is not a multiple of 8');
      assert.deepEqual(causeLines(new LoadError('section .text', decode.message, { cause: decode })), []);
      const btf = new LoadError('BTF', 'string offset 0x99 is outside the string section (4 bytes)');
      assert.deepEqual(causeLines(new LoadError('.BTF.ext line_info record 2', btf.reason, { cause: btf })), []);
      // ... but what they chain is still shown: a kfunc's exception two levels down keeps its stack.
      const boom = thrownByKfunc();
      assert.deepEqual(causeTexts(new LoadError('x', 'y', { cause: kfuncFailure(boom) })), [boom.stack]);
    });

    it('a library\'s error outside a run shows as one line, and not at all when the message quotes it', () => {
      const lib = new RangeError('index out of range: 3 + 255 > 3');
      assert.deepEqual(causeLines(new LoadError('junk.pb', `not a run record (${lib.message})`, { cause: lib })), []);
      assert.deepEqual(causeLines(new LoadError('junk.pb', 'not a run record', { cause: lib })),
        ['caused by: RangeError: index out of range: 3 + 255 > 3']);
    });
  });

  describe('the run report shows the cause chain under the error', () => {
    it('text: the original stack indented under the error line; nothing more without a cause', () => {
      const boom = thrownByKfunc();
      const text = formatRunReport(failedRun(kfuncFailure(boom))).split('\n');
      assert.deepEqual(text.slice(0, 2), [`fill_mask (syscall): error: instruction 12: ${KFUNC} failed: boom`, '  caused by: Error: boom']);
      assert.match(text[2], /^ {6}at thrownByKfunc \(.*error-cause\.test\.js:\d+:\d+\)$/);
      assert.deepEqual(text.slice(2), boom.stack!.split('\n').slice(1).map((l) => '  ' + l));
      assert.equal(formatRunReport(failedRun(new RuntimeError(12, 'failed'))), 'fill_mask (syscall): error: instruction 12: failed');
    });

    it('JSON: `causes` only when there is one', () => {
      const boom = thrownByKfunc();
      const withCause = JSON.parse(runReportJson(failedRun(kfuncFailure(boom))));
      assert.deepEqual(withCause.programs[0].causes, [boom.stack]);
      const without = JSON.parse(runReportJson(failedRun(new RuntimeError(12, 'failed'))));
      assert.deepEqual(without.programs[0], { name: 'fill_mask', section: 'syscall', error: 'instruction 12: failed' });
    });
  });
});

/**
 * End to end: a user's kfunc throws, and its Error arrives as the RuntimeError's `cause`, stack
 * and all, in the API, the run report and the CLI. Needs `callNative` (src/runtime.ts) to pass
 * `{ cause: e }` to the RuntimeError it builds from a host exception.
 */
describe('a kfunc\'s exception keeps its stack, end to end', () => {
  const throwing: KfuncImpl = () => { throw thrownByKfunc('kfunc went wrong'); };

  for (const engine of ENGINES) {
    it(`[${engine}] the run fails with a RuntimeError whose cause is the kfunc's Error`, () => {
      const loaded = openObject(CPUMASK).load({ engine, kfuncs: { [KFUNC]: throwing } });
      assert.throws(() => loaded.program('fill_mask').run(), (e: unknown) => {
        assert.ok(e instanceof RuntimeError, String(e));
        assert.match(e.message, /fill_mask.*kfunc went wrong/);
        assert.ok(e.cause instanceof Error);
        assert.equal(e.cause.message, 'kfunc went wrong');
        assert.match(e.cause.stack!, THIS_FILE);
        return true;
      });
    });

    it(`[${engine}] the text report shows the kfunc's stack under the error`, () => {
      const loaded = openObject(CPUMASK).load({ engine, kfuncs: { [KFUNC]: throwing } });
      const lines = formatRunReport(runPrograms(loaded, [], engine)).split('\n');
      const at = lines.findIndex((l) => l.startsWith('fill_mask (syscall): error: '));
      assert.equal(lines[at + 1], '  caused by: Error: kfunc went wrong');
      assert.match(lines[at + 2], /^ {6}at thrownByKfunc \(.*error-cause\.test\.js:\d+:\d+\)$/);
    });
  }

  it('the CLI prints the kfunc module\'s stack under the error', () => {
    const dir = mkdtempSync(join(PROJECT_ROOT, '.kfunc-ts-'));
    try {
      const module = join(dir, 'throwing.mjs');
      writeFileSync(module, [
        "import { defineKfunc } from 'bpfrun';",
        'export default defineKfunc({',
        `  name: '${KFUNC}', args: ['arena', 'scalar'], ret: 'scalar',`,
        "  impl() { throw new TypeError('cpumask went wrong'); },",
        '});',
      ].join('\n'));
      const r = bpfrun(['run', 'progs/example_cpumask.bpf.o', '--kfuncs', module]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^fill_mask \(syscall\): error: .*cpumask went wrong.*\n {2}caused by: TypeError: cpumask went wrong\n {6}at .*impl \(.*throwing\.mjs:4:\d+\)$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
