// Run records (proto/run_record.proto): what `bpfrun run --record` writes and `bpfrun inspect` /
// `bpfrun tracelog` read back — every stream message with its boundaries and origin, every fault
// with its path (exception table, scratch page, oops), in the order they happened.
import assert from 'node:assert/strict';
import { DEFAULT_ENGINE, EngineName, ENGINES } from '../src/engines.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadError, RuntimeError } from '../src/errors.js';
import { EventLog, FaultEvent, RunEvent, StreamMessageEvent } from '../src/events.js';
import { decodeRecord, encodeRecord, filterEvents, formatInspect, recordJson, schemaPath, tracelog } from '../src/record.js';
import { RunData, runPrograms } from '../src/runs.js';
import { arenaTestKfuncs, bpfrun, loadEvery } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const prog = (name: string) => join(PROJECT_ROOT, 'progs', name);
const PG = (n: number) => (1n << 44n) + BigInt(n) * 0x1000n;


const faults = (events: readonly RunEvent[]) => events.filter((e): e is FaultEvent => e.kind === 'fault');
const messages = (events: readonly RunEvent[]) => events.filter((e): e is StreamMessageEvent => e.kind === 'stream');

const streamsOf = (runs: RunData, name: string) => runs.programs.find((p) => p.name === name)!.streams;

/** Load, run the named programs as `bpfrun run` does, and record. */
function recordRun(file: string, names: string[], options = {}, engine: EngineName = DEFAULT_ENGINE) {
  const loaded = loadEvery(prog(file), { engine, ...options });
  const runs = runPrograms(loaded, names, engine);
  const bytes = encodeRecord(file, runs);
  return { loaded, runs, bytes, record: decodeRecord(bytes) };
}

describe('run records', () => {
  describe('arena_kfunc.bpf.o: kernel-side faults (scratch page and oops)', () => {
    const names = ['kf_unalloc_write', 'kf_from_subprog', 'kf_lower_guard'];
    const { loaded, runs, record } = recordRun('arena_kfunc.bpf.o', names, { kfuncs: arenaTestKfuncs });

    it('survives the round trip: the decoded events are the log, in order', () => {
      assert.deepEqual(record.events.map((e) => e.seq), record.events.map((_, i) => i + 1));
      assert.deepEqual(record.events, loaded.kernel.events.events);
      assert.equal(record.object, 'arena_kfunc.bpf.o');
      assert.equal(record.engine, DEFAULT_ENGINE);
      assert.equal(record.droppedEvents, 0);
      assert.deepEqual(record.runs.map((r) => [r.name, r.ok]), [['kf_unalloc_write', true], ['kf_from_subprog', true], ['kf_lower_guard', false]]);
      assert.equal(record.runs[2].error, runs.programs[2].error?.message);
      assert.equal(record.arena?.pagesScratched, loaded.arena!.pagesScratched);
      assert.equal(record.arena?.kernVmStart, loaded.arena!.kernVmStart);
    });

    it('every engine records the same events', () => {
      for (const engine of ENGINES) assert.deepEqual(recordRun('arena_kfunc.bpf.o', names, { kfuncs: arenaTestKfuncs }, engine).record.events, record.events);
    });

    it('a scratch-page fault names the kfunc and its call site; the kernel report follows it on stderr', () => {
      const sub = record.events.filter((e) => e.program === 'kf_from_subprog');
      assert.equal(sub[0].kind, 'fault');
      const f = sub[0] as FaultEvent;
      assert.equal(f.path, 'scratch-page');
      assert.equal(f.access, 'write');
      assert.equal(f.userAddress, PG(11));
      assert.equal(f.kernelAddress! & ~0xfffn, loaded.arena!.kernVmStart + 11n * 0x1000n); // exact; the user address is the page
      assert.equal(f.kfunc, 'bpfrun_test_arena_write');
      assert.ok(f.callSite !== undefined && f.callSite.insn >= 0);
      assert.match(f.callSite.source!.file, /arena_kfunc\.bpf\.c$/);
      // The call is in the subprogram kwrite_sub: the call site is its instruction, not the caller's.
      assert.equal(f.callSite.source!.function, 'kwrite_sub');
      const m = sub[1] as StreamMessageEvent;
      assert.equal(m.kind, 'stream');
      assert.equal(m.stream, 'stderr');
      assert.equal(m.origin, 'kernel');
      assert.equal(m.elements[0], `ERROR: Arena WRITE access at unmapped address 0x${PG(11).toString(16)}\n`);
      assert.equal(m.elements.join(''), streamsOf(runs, 'kf_from_subprog').stderr);
    });

    it('an oops is a fault event with no stream message, and the run records the error', () => {
      const guard = record.events.filter((e) => e.program === 'kf_lower_guard');
      assert.deepEqual(guard.map((e) => e.kind), ['fault']);
      const f = guard[0] as FaultEvent;
      assert.equal(f.path, 'oops');
      assert.equal(f.access, 'read');
      assert.equal(f.kernelAddress, loaded.arena!.kernVmStart - 8n);
      assert.equal(f.kfunc, 'bpfrun_test_arena_read_off');
    });

    it('inspect filters: --faults, --stream, --prog', () => {
      assert.deepEqual(filterEvents(record, { faults: true }), faults(record.events));
      assert.deepEqual(filterEvents(record, { stream: 'stderr' }), messages(record.events).filter((m) => m.stream === 'stderr'));
      const both = filterEvents(record, { faults: true, prog: 'kf_lower_guard' });
      assert.deepEqual(both.map((e) => [e.kind, e.program]), [['fault', 'kf_lower_guard']]);
      const text = formatInspect(record, { faults: true, prog: 'kf_from_subprog' });
      assert.match(text, /^#\d+ kf_from_subprog fault: WRITE user 0x10000000b000 kernel 0x[0-9a-f]+, scratch-page, kfunc bpfrun_test_arena_write, called at insn \d+ at arena_kfunc\.bpf\.c:\d+/m);
      assert.doesNotMatch(text, /kf_unalloc_write|stderr/);
    });
  });

  describe('streams.bpf.o: program messages and instruction faults', () => {
    const { loaded, runs, record } = recordRun('streams.bpf.o', []);

    it('stream messages keep their element boundaries and origin; tracelog is the stream as stored', () => {
      const out = messages(record.events).filter((m) => m.program === 'stream_print' && m.stream === 'stdout');
      assert.ok(out.length > 0);
      assert.ok(out.every((m) => m.origin === 'program'));
      for (const name of ['stream_print', 'stream_fault']) {
        for (const s of ['stdout', 'stderr'] as const) assert.equal(tracelog(record, s, name), streamsOf(runs, name)[s]);
      }
      assert.equal(tracelog(record, 'stdout'), streamsOf(runs, 'stream_print').stdout + streamsOf(runs, 'stream_fault').stdout);
    });

    it('a faulting instruction is an exception-table event with its index and source line, before its report', () => {
      const fs = faults(record.events);
      assert.deepEqual(fs.map((f) => [f.path, f.access, f.program]),
        [['exception-table', 'write', 'stream_fault'], ['exception-table', 'read', 'stream_fault']]);
      for (const f of fs) {
        assert.equal(f.kfunc, undefined);
        assert.equal(f.kernelAddress, undefined);
        assert.match(f.source!.text, f.access === 'write' ? /\*p = 0x1234;/ : /fault_read_val = \*p;/);
        const next = record.events[f.seq] as StreamMessageEvent; // seq is 1-based: the event after f
        assert.equal(next.kind, 'stream');
        assert.equal(next.origin, 'kernel');
        assert.equal(next.elements[0], `ERROR: Arena ${f.access.toUpperCase()} access at unmapped address 0x${f.userAddress!.toString(16)}\n`);
      }
      assert.equal(loaded.arena!.pagesScratched, 0); // a BPF instruction's fault installs nothing
    });

    it('--json keeps addresses as hex and 64-bit values as decimal strings', () => {
      const json = JSON.parse(recordJson(record, { faults: true })) as { events: Array<Record<string, unknown>>; runs: unknown[] };
      assert.equal(json.events.length, 2);
      assert.match(json.events[0].userAddress as string, /^0x1000000[0-9a-f]{5}$/);
      assert.equal(json.runs.length, 2);
    });
  });

  it('the event log is bounded: events past its limit are counted, not kept', () => {
    const log = new EventLog(2);
    for (let i = 0; i < 5; i++) log.add({ kind: 'stream', program: 'p', stream: 'stdout', elements: [`${i}`], origin: 'program' });
    assert.deepEqual(log.events.map((e) => e.seq), [1, 2]);
    assert.equal(log.dropped, 3);
  });

  it('bytes that are not a run record are a LoadError naming the file, with the decoder\'s error as its cause', () => {
    assert.throws(() => decodeRecord(Uint8Array.from([0x0a, 0xff, 0xff]), 'junk.pb'),
      (e: unknown) => e instanceof LoadError && /junk\.pb/.test(e.message) && e.cause instanceof Error && e.message.includes(e.cause.message));
  });

  it('a retval round-trips as a u64, full width, and is a uint64 varint on the wire', () => {
    const streams = { stdout: '', stderr: '' };
    const retvals = [0xffffffffffffffffn, 1n << 63n, (1n << 63n) - 1n, 1n << 32n, 0xffffffffn, 0n];
    const runs: RunData = {
      engine: ENGINES[0],
      programs: [
        ...retvals.map((retval, i) => ({ name: `p${i}`, section: 'syscall', engine: ENGINES[0], streams, retval, instructions: 2 ** 53 - i })),
        { name: 'failed', section: 'syscall', engine: ENGINES[0], streams, error: new RuntimeError(3, 'boom') },
      ],
      globals: [], trace: [], events: [], droppedEvents: 0,
    };
    const bytes = encodeRecord('made.o', runs);
    const record = decodeRecord(bytes);
    assert.deepEqual(record.runs.map((r) => r.retval), [...retvals, 0n]);
    assert.deepEqual(record.runs.map((r) => r.instructions), [...retvals.map((_, i) => BigInt(2 ** 53 - i)), 0n]);
    assert.deepEqual(record.runs.map((r) => r.ok), [...retvals.map(() => true), false]);
    assert.equal(record.runs.at(-1)!.error, 'instruction 3: boom');
    assert.equal(record.engine, ENGINES[0]);
    // ProgramRun.retval (field 4, varint: tag 0x20): 2^64 - 1 is nine 0xff bytes and 0x01.
    const wire = Buffer.from(bytes).toString('hex');
    assert.ok(wire.includes('20' + 'ff'.repeat(9) + '01'), wire);
    assert.ok(wire.includes('20' + '80'.repeat(9) + '01'), wire); // 2^63
  });

  it('the schema is found from the package root, wherever the module runs from', () => {
    const schema = join(PROJECT_ROOT, 'proto', 'run_record.proto');
    assert.equal(schemaPath(), schema);
    assert.equal(schemaPath(join(PROJECT_ROOT, 'src', 'record.ts')), schema);
    assert.equal(schemaPath(join(PROJECT_ROOT, 'node_modules', 'x', 'dist', 'src', 'record.js')), schema);
    assert.throws(() => schemaPath('/record.js'), /proto\/run_record\.proto not found in any directory above \/record\.js/);
  });

  describe('CLI: run --record, inspect, tracelog', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfrun-record-'));
    const pb = join(dir, 'run.pb');

    it('records the off-by-one example and reads it back', () => {
      const run = bpfrun(['run', 'progs/example_off_by_one.bpf.o', '--kfuncs', 'examples/off-by-one-kfunc.mjs', '--record', pb]);
      assert.equal(run.status, 0, run.stderr);
      const record = decodeRecord(readFileSync(pb));
      assert.deepEqual(record.events.map((e) => e.kind === 'fault' ? e.path : `${e.stream}/${e.origin}`),
        ['scratch-page', 'stderr/kernel', 'stdout/program']);
      const inspect = bpfrun(['inspect', pb, '--faults']);
      assert.equal(inspect.status, 0, inspect.stderr);
      assert.match(inspect.stdout, /#1 fill_tail fault: WRITE user 0x100000001000 kernel 0x[0-9a-f]+, scratch-page, kfunc bpfrun_example_fill_bytes, called at insn \d+ at example_off_by_one\.bpf\.c:\d+/);
      const json = bpfrun(['inspect', pb, '--stream', 'stdout', '--json']);
      assert.deepEqual(JSON.parse(json.stdout).events.map((e: StreamMessageEvent) => e.elements.join('')), ['tail[15] = 0x2a\n']);
      const trace = bpfrun(['tracelog', 'stderr', pb]);
      assert.equal(trace.status, 0, trace.stderr);
      assert.equal(trace.stdout, tracelog(record, 'stderr'));
      assert.match(trace.stdout, /^ERROR: Arena WRITE access at unmapped address 0x100000001000\n/);
    });

    it('bad input: an unknown stream is a usage error, a file that is not a record a clear error', () => {
      const junk = join(dir, 'junk.pb');
      writeFileSync(junk, 'not a record at all');
      const bad = bpfrun(['tracelog', 'stdin', pb]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /unknown stream 'stdin'/);
      const notRecord = bpfrun(['inspect', junk]);
      assert.equal(notRecord.status, 1);
      assert.match(notRecord.stderr, /junk\.pb.*not a run record/);
    });
  });
});
