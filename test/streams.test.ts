// BPF streams against kernel/bpf/stream.c and its selftests (spec §3.4, §4, §7.1): admission,
// FIFO reads, staged commits, stack dumps, kernel reports and the stream kfuncs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bpfFormat, type FormatMemory } from '../src/helpers/printf.js';
import { SimKernel } from '../src/kernel/kernel.js';
import { E2BIG, EINVAL, ENOENT, ENOMEM, ENOSPC } from '../src/uapi.js';
import { AddressSpace } from '../src/memory.js';
import type { CallContext, NativeFn } from '../src/runtime.js';
import {
  BPF_STDERR, BPF_STDOUT, BPF_STREAM_MAX_CAPACITY, BpfStream, ProgramStreams, bpfProgSymbol, createStreamKfuncs,
  formatStackDump, progTag, reportArenaViolation, reportMayGotoTimeout, reportResSpinLockFailure, splitStackDump,
  stackDumpElements, type StackFrame, type StreamKfuncDeps, type TaskInfo,
} from '../src/streams/index.js';

const decoder = new TextDecoder();
const str = (b: Uint8Array) => decoder.decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

/** The body regex of prog_tests/stream.c (POSIX ERE with REG_NEWLINE; the same in JS here). */
const TRACE_RE = 'CPU: [0-9]+ UID: 0 PID: [0-9]+ Comm: .*\\n' +
  'Call trace:\\n' +
  '([a-zA-Z_][a-zA-Z0-9_]*\\+0x[0-9a-fA-F]+/0x[0-9a-fA-F]+\\n|[ \\t]+[^\\n]+\\n)*';

const TASK: TaskInfo = { cpu: 48, uid: 0, pid: 786, comm: 'test_progs' };

/** The frames of the v2 cover letter's sample dump (§4.6). */
const SAMPLE_FRAMES: StackFrame[] = [
  { symbol: 'bpf_stream_stage_dump_stack', offset: 0xb0, size: 0xd0 },
  { symbol: 'bpf_prog_report_may_goto_violation', offset: 0x6a, size: 0x90 },
  { symbol: 'bpf_check_timed_may_goto', offset: 0x4d, size: 0xa0 },
  { symbol: 'arch_bpf_timed_may_goto', offset: 0x21, size: 0x40 },
  {
    symbol: 'bpf_prog_3699ea119d1f6ed8_foo', offset: 0x12f, size: 0x140,
    source: { text: '\twhile (can_loop)', file: '/home/u/linux/tools/testing/selftests/bpf/progs/stream_bpftool.c', line: 71 },
  },
  {
    symbol: 'bpf_prog_9b324ec4a1b2a5c0_stream_bpftool_dump_prog_stream', offset: 0x7e, size: 0x2d0,
    source: { text: '    foo(stream);', file: 'progs/stream_bpftool.c', line: 93 },
  },
  { symbol: 'bpf_prog_test_run_syscall', offset: 0x102, size: 0x240 },
  { symbol: '__sys_bpf', offset: 0xd68, size: 0x2bf0 },
  { symbol: '__x64_sys_bpf', offset: 0x1e, size: 0x30 },
  { symbol: 'do_syscall_64', offset: 0x68, size: 0x140 },
  { symbol: 'entry_SYSCALL_64_after_hwframe', offset: 0x76, size: 0x7e },
];

const SAMPLE_DUMP = `CPU: 48 UID: 0 PID: 786 Comm: test_progs
Call trace:
bpf_stream_stage_dump_stack+0xb0/0xd0
bpf_prog_report_may_goto_violation+0x6a/0x90
bpf_check_timed_may_goto+0x4d/0xa0
arch_bpf_timed_may_goto+0x21/0x40
bpf_prog_3699ea119d1f6ed8_foo+0x12f/0x140
  while (can_loop) @ stream_bpftool.c:71
bpf_prog_9b324ec4a1b2a5c0_stream_bpftool_dump_prog_stream+0x7e/0x2d0
  foo(stream); @ stream_bpftool.c:93
bpf_prog_test_run_syscall+0x102/0x240
__sys_bpf+0xd68/0x2bf0
__x64_sys_bpf+0x1e/0x30
do_syscall_64+0x68/0x140
entry_SYSCALL_64_after_hwframe+0x76/0x7e

`;

/** Pushes `n`-byte elements of 'y' until `total` bytes are stored. */
function fill(stream: BpfStream, total: number): void {
  while (stream.capacityUsed < total) {
    assert.equal(stream.push(new Uint8Array(Math.min(1000, total - stream.capacityUsed)).fill(0x79)), 0);
  }
}

describe('BPF streams', () => {
  describe('BpfStream admission (§4.1)', () => {
    it('stream_exhaust: 54-byte messages, the first -ENOSPC at 99 954 bytes (1851 messages)', () => {
      const s = new BpfStream();
      const msg = bytes('x'.repeat(54));
      let size = 0, count = 0, ret = 0;
      while ((ret = s.push(msg)) === 0) { size += 54; count++; }
      assert.equal(ret, -ENOSPC);
      assert.equal(size, 99_954);
      assert.equal(count, 1851);
      assert.equal(s.capacityUsed, 99_954);
      assert.equal(s.pending, 99_954);
    });

    it('holds at most 99 999 bytes: a push reaching 100 000 is refused, nothing of it kept', () => {
      const s = new BpfStream();
      fill(s, 99_000);
      assert.equal(s.push(new Uint8Array(1000)), -ENOSPC);
      assert.equal(s.capacityUsed, 99_000);
      assert.equal(s.push(new Uint8Array(999)), 0);
      assert.equal(s.capacityUsed, BPF_STREAM_MAX_CAPACITY - 1);
      assert.equal(s.push(new Uint8Array(1)), -ENOSPC);
      assert.equal(s.push(new Uint8Array(0)), 0, 'an empty push still fits');
    });

    it('reading releases capacity element by element', () => {
      const s = new BpfStream();
      const msg = bytes('x'.repeat(54));
      while (s.push(msg) === 0);
      assert.equal(s.read(53).length, 53);
      assert.equal(s.push(msg), -ENOSPC, 'a partly read element still holds its capacity');
      assert.equal(s.read(1).length, 1);
      assert.equal(s.capacityUsed, 99_900);
      assert.equal(s.push(msg), 0);
    });

    it('an element over 1024 bytes is -ENOMEM with its length left charged (mainline)', () => {
      const s = new BpfStream();
      assert.equal(s.push(new Uint8Array(1024)), 0);
      assert.equal(s.push(new Uint8Array(1025)), -ENOMEM);
      assert.equal(s.pending, 1024);
      assert.equal(s.capacityUsed, 2049);
    });
  });

  describe('reading (§4.5)', () => {
    it('test_stream_syscall: "foo" reads as 2, 1, then 0 bytes; stderr is empty', () => {
      const p = new ProgramStreams();
      assert.equal(p.stdout.pushText('foo'), 0);
      const r1 = p.read(BPF_STDOUT, 2), r2 = p.read(BPF_STDOUT, 2), r3 = p.read(BPF_STDOUT, 1);
      assert.ok(r1 instanceof Uint8Array && r2 instanceof Uint8Array && r3 instanceof Uint8Array);
      assert.equal(str(r1), 'fo');
      assert.equal(str(r2), 'o');
      assert.equal(r3.length, 0);
      assert.deepEqual(p.read(BPF_STDERR, 1), new Uint8Array(0));
      assert.equal(p.stdout.capacityUsed, 0);
    });

    it('reads cross element boundaries in FIFO order, keeping a partial element', () => {
      const s = new BpfStream();
      for (const t of ['ab', 'cd', 'ef']) s.pushText(t);
      assert.equal(str(s.read(3)), 'abc');
      assert.equal(s.capacityUsed, 4, 'ab released, cd still charged');
      assert.equal(s.text, 'def');
      s.pushText('gh');
      assert.equal(str(s.read(100)), 'defgh');
      assert.equal(s.capacityUsed, 0);
      assert.equal(s.read(0).length, 0);
    });

    it('readAll() drains the stream as text', () => {
      const s = new BpfStream();
      s.pushText('one\n');
      s.pushText('two\n');
      assert.equal(s.readAll(), 'one\ntwo\n');
      assert.equal(s.readAll(), '');
    });

    it('streams are per id: 1 stdout, 2 stderr, anything else -ENOENT', () => {
      const p = new ProgramStreams();
      assert.equal(p.get(BPF_STDOUT), p.stdout);
      assert.equal(p.get(BPF_STDERR), p.stderr);
      for (const id of [0, 3, -1]) {
        assert.equal(p.get(id), undefined);
        assert.equal(p.read(id, 8), -ENOENT);
      }
    });
  });

  describe('staging (§4.4)', () => {
    it('commits every staged element in order', () => {
      const s = new BpfStream();
      s.pushText('before\n');
      const st = s.stage();
      assert.equal(st.printk('line 1\n'), 0);
      assert.equal(st.printk('line 2\n'), 0);
      assert.equal(s.text, 'before\n', 'nothing is visible before the commit');
      assert.equal(st.commit(), 0);
      assert.equal(s.readAll(), 'before\nline 1\nline 2\n');
      assert.throws(() => st.commit());
    });

    it('charges the whole staged length at once: all or nothing', () => {
      const s = new BpfStream();
      fill(s, 99_988);
      const big = s.stage();
      big.printk('123456');
      big.printk('789012');
      assert.equal(big.length, 12);
      assert.equal(big.commit(), -ENOSPC);
      assert.equal(s.capacityUsed, 99_988);
      const small = s.stage();
      small.printk('12345');
      small.printk('678901');
      assert.equal(small.commit(), 0);
      assert.equal(s.capacityUsed, 99_999);
      assert.ok(s.text.endsWith('12345678901'));
    });

    it('an over-long staged element is dropped but its length still charged', () => {
      const s = new BpfStream();
      const st = s.stage();
      assert.equal(st.printk('a'.repeat(1025)), -ENOMEM);
      assert.equal(st.printk('b'), 0);
      assert.equal(st.commit(), 0);
      assert.equal(s.text, 'b');
      assert.equal(s.capacityUsed, 1026);
    });

    it('a 1024-char element keeps 1023 chars and the NUL (vsnprintf into 1024 bytes)', () => {
      const s = new BpfStream();
      const st = s.stage();
      assert.equal(st.printk('c'.repeat(1024)), 0);
      st.commit();
      assert.equal(s.text, 'c'.repeat(1023) + '\0');
    });
  });

  describe('stack dumps (§4.6)', () => {
    it('reproduces the cover-letter sample', () => {
      assert.equal(formatStackDump(TASK, SAMPLE_FRAMES), SAMPLE_DUMP);
    });

    it('matches the selftest regex and ends with an empty line', () => {
      const dump = formatStackDump({ cpu: 0, uid: 0, pid: 1, comm: 'bpfrun' }, SAMPLE_FRAMES);
      assert.match(dump, new RegExp(`^${TRACE_RE}\\n$`));
      assert.match(formatStackDump(TASK, []), new RegExp(`^${TRACE_RE}\\n$`), 'no frames: header lines only');
    });

    it('one element per kernel printk: a BPF frame carries its source line', () => {
      const els = stackDumpElements(TASK, SAMPLE_FRAMES);
      assert.equal(els.length, 2 + SAMPLE_FRAMES.length + 1);
      assert.equal(els[6], 'bpf_prog_3699ea119d1f6ed8_foo+0x12f/0x140\n  while (can_loop) @ stream_bpftool.c:71\n');
      assert.deepEqual(splitStackDump(SAMPLE_DUMP), els);
    });

    it('comm is at most 15 chars (TASK_COMM_LEN)', () => {
      assert.match(formatStackDump({ ...TASK, comm: 'a_very_long_command_name' }, []), /Comm: a_very_long_com\n/);
    });

    it('names BPF programs bpf_prog_<tag>_<name>', () => {
      assert.equal(bpfProgSymbol('3699ea119d1f6ed8', 'foo'), 'bpf_prog_3699ea119d1f6ed8_foo');
      assert.equal(bpfProgSymbol('3699ea119d1f6ed8', ''), 'bpf_prog_3699ea119d1f6ed8');
    });
  });

  describe('program tag (bpf_prog_calc_tag)', () => {
    const insn = (code: number, dst: number, src: number, off: number, imm: number) => {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      b[0] = code; b[1] = (src << 4) | dst;
      v.setInt16(2, off, true); v.setInt32(4, imm, true);
      return b;
    };
    const prog = (...insns: Uint8Array[]) => {
      const out = new Uint8Array(insns.length * 8);
      insns.forEach((x, i) => out.set(x, i * 8));
      return out;
    };
    const EXIT = insn(0x95, 0, 0, 0, 0);
    const ldMap = (src: number, fd: number, second: number) => [insn(0x18, 1, src, 0, fd), insn(0, 0, 0, 0, second)];

    it('is the first 8 bytes of SHA-256 (6.18+) or SHA-1 (earlier) of the instructions', () => {
      const p = prog(insn(0xb7, 0, 0, 0, 0), EXIT); // r0 = 0; exit
      assert.equal(progTag(p), createHash('sha256').update(p).digest('hex').slice(0, 16));
      assert.equal(progTag(p, 'sha1'), createHash('sha1').update(p).digest('hex').slice(0, 16));
      assert.match(progTag(p), /^[0-9a-f]{16}$/);
    });

    it('ignores map fds and map-value offsets of ld_imm64, nothing else', () => {
      const a = progTag(prog(...ldMap(1, 3, 0), EXIT));
      assert.equal(progTag(prog(...ldMap(1, 7, 0), EXIT)), a, 'map fd');
      const v = progTag(prog(...ldMap(2, 3, 16), EXIT));
      assert.equal(progTag(prog(...ldMap(2, 9, 32), EXIT)), v, 'map value fd and offset');
      assert.notEqual(progTag(prog(...ldMap(5, 0, 0), EXIT)), progTag(prog(...ldMap(5, 1, 0), EXIT)), 'map idx kept');
      assert.notEqual(progTag(prog(insn(0x18, 1, 0, 0, 3), insn(0, 0, 0, 0, 0), EXIT)),
        progTag(prog(insn(0x18, 1, 0, 0, 7), insn(0, 0, 0, 0, 0), EXIT)), 'plain constants kept');
    });
  });

  describe('kernel reports (§3.4, §4.7)', () => {
    it('arena violation: the ERROR line then the dump, on stderr', () => {
      const p = new ProgramStreams();
      assert.equal(reportArenaViolation(p, true, 0x100007fffn, { task: TASK, frames: SAMPLE_FRAMES.slice(4) }), 0);
      const text = p.stderr.readAll();
      assert.match(text, new RegExp(`^ERROR: Arena WRITE access at unmapped address 0x100007fff\\n${TRACE_RE}\\n$`));
      assert.equal(p.stdout.pending, 0);
      reportArenaViolation(p, false, 0x7f0000001000n, formatStackDump(TASK, []));
      assert.equal(p.stderr.readAll(), `ERROR: Arena READ access at unmapped address 0x7f0000001000\n${formatStackDump(TASK, [])}`);
    });

    it('a report that does not fit is dropped whole', () => {
      const p = new ProgramStreams();
      fill(p.stderr, 99_800);
      assert.equal(reportArenaViolation(p, false, 0x1000n, formatStackDump(TASK, SAMPLE_FRAMES)), -ENOSPC);
      assert.equal(p.stderr.capacityUsed, 99_800);
      assert.equal(reportArenaViolation(p, false, 0x1000n, formatStackDump(TASK, [])), 0, 'a short one still fits');
    });

    it('may_goto timeout matches the selftest expectation', () => {
      const p = new ProgramStreams();
      reportMayGotoTimeout(p, { task: { ...TASK, uid: 0 }, frames: SAMPLE_FRAMES });
      assert.equal(p.stderr.readAll(), `ERROR: Timeout detected for may_goto instruction\n${SAMPLE_DUMP}`);
    });

    it('rqspinlock AA deadlock: held lock address equals the attempted one', () => {
      const p = new ProgramStreams();
      reportResSpinLockFailure(p, { timeout: false, irqsave: false, attempted: 0xffff888100a0b000n, held: [0xffff888100a0b000n] },
        { task: TASK, frames: [] });
      assert.match(p.stderr.readAll(), new RegExp('^ERROR: AA or ABBA deadlock detected for bpf_res_spin_lock\\n' +
        'Attempted lock   = (0x[0-9a-fA-F]+)\\nTotal held locks = 1\\nHeld lock\\[ 0\\] = \\1\\n' + TRACE_RE));
    });
  });

  describe('stream kfuncs (§4.2, §4.3)', () => {
    let kernel: SimKernel;
    let streams: ProgramStreams;
    let kfuncs: Map<string, NativeFn>;
    let rodata: Uint8Array;
    let cursor: number;
    let rodataBase: bigint;
    let argsBase: bigint;
    let argsView: DataView;
    const frames: StackFrame[] = [
      { symbol: 'bpf_stream_print_stack', offset: 0x2f, size: 0x60 },
      { symbol: 'bpf_prog_0123456789abcdef_prog', offset: 0x40, size: 0x88, source: { text: '  bpf_stream_print_stack(BPF_STDERR);', file: 'stream.c', line: 12 } },
    ];

    const setup = (over: Partial<StreamKfuncDeps> = {}) => {
      kernel = new SimKernel({ pid: 42 });
      streams = new ProgramStreams();
      rodata = new Uint8Array(8192);
      cursor = 0;
      rodataBase = AddressSpace.address(kernel.memory.map('.rodata', rodata, false));
      const args = new Uint8Array(96);
      argsView = new DataView(args.buffer);
      argsBase = AddressSpace.address(kernel.memory.map('stack', args));
      kfuncs = createStreamKfuncs({ kernel, streamsOf: () => streams, stackOf: () => frames, ...over });
    };
    beforeEach(() => setup());

    /** Places a NUL-terminated string in .rodata and returns its address. */
    const cstr = (s: string): bigint => {
      const at = rodataBase + BigInt(cursor);
      rodata.set(bytes(s), cursor);
      cursor += s.length + 1;
      return at;
    };
    /** Writes u64 args into the args array and returns its address. */
    const argv = (...vals: bigint[]): bigint => {
      vals.forEach((v, i) => argsView.setBigUint64(i * 8, v, true));
      return argsBase;
    };
    const ctx = (...args: bigint[]): CallContext => ({
      index: 5,
      memory: kernel.memory,
      arg: (n) => BigInt.asUintN(64, args[n - 1] ?? 0n),
      argLo: (n) => Number(BigInt.asIntN(32, args[n - 1] ?? 0n)),
      argHi: (n) => Number(BigInt.asIntN(32, (args[n - 1] ?? 0n) >> 32n)),
      stop: () => {},
      callFunction: () => { throw new Error('no callbacks'); },
      tailCall: () => false,
      frames: () => [],
    });
    const call = (name: string, ...args: bigint[]) => kfuncs.get(name)!(ctx(...args));
    const printk = (id: number, fmt: string, args: bigint[] | null, len = (args?.length ?? 0) * 8) =>
      call('bpf_stream_vprintk', BigInt(id), cstr(fmt), args === null ? 0n : argv(...args), BigInt(len));

    it('stream_syscall: bpf_stream_printk(BPF_STDOUT, "foo") returns 0 and writes "foo"', () => {
      assert.equal(printk(BPF_STDOUT, 'foo', null), 0);
      assert.equal(streams.stdout.text, 'foo');
      assert.equal(streams.stderr.pending, 0);
    });

    it('formats with bpf_bprintf_prepare rules and no trailing NUL', () => {
      const name = cstr('bpfrun');
      assert.equal(printk(BPF_STDERR, 'pid %d %s 0x%llx %c%%\n', [BigInt(-5 >>> 0), name, 0xdeadbeefcafen, 0x21n]), 0);
      assert.equal(streams.stderr.readAll(), 'pid -5 bpfrun 0xdeadbeefcafe !%\n');
    });

    it('unknown stream ids are -ENOENT before any other check', () => {
      for (const id of [0, 3, -1]) assert.equal(printk(id, '%d', null, 4), -ENOENT);
    });

    it('len__sz must be a multiple of 8, at most 96, and come with args', () => {
      assert.equal(printk(BPF_STDOUT, 'x', [1n], 4), -EINVAL);
      assert.equal(printk(BPF_STDOUT, 'x', null, 8), -EINVAL);
      assert.equal(printk(BPF_STDOUT, 'x', [], 104), -EINVAL);
      const twelve = Array.from({ length: 12 }, (_, i) => BigInt(i));
      assert.equal(printk(BPF_STDOUT, '%d%d%d%d%d%d%d%d%d%d%d%d', twelve), 0);
      assert.equal(streams.stdout.readAll(), '01234567891011');
    });

    it('a bad format is -EINVAL and writes nothing', () => {
      assert.equal(printk(BPF_STDOUT, '%q', [1n]), -EINVAL);
      assert.equal(printk(BPF_STDOUT, '%d %d', [1n]), -EINVAL, 'more conversions than args');
      assert.equal(printk(BPF_STDOUT, '%.2d', [1n]), -EINVAL, 'no precision');
      assert.equal(printk(BPF_STDOUT, '%sx', [cstr('a')]), -EINVAL, '%s must end a word');
      assert.equal(streams.stdout.capacityUsed, 0);
    });

    it('stream_exhaust through the kfunc: -ENOSPC when 99 954 bytes are stored', () => {
      const fmt = cstr('x'.repeat(54));
      let size = 0;
      for (;;) {
        const ret = call('bpf_stream_vprintk', BigInt(BPF_STDOUT), fmt, 0n, 0n);
        if (ret === -ENOSPC) break;
        assert.equal(ret, 0);
        size += 54;
      }
      assert.equal(size, 99_954);
    });

    it('over-long output (mainline): 1024 chars keep 1023 and a NUL; longer is -ENOMEM, still charged', () => {
      assert.equal(printk(BPF_STDOUT, '%1024d', [7n]), 0);
      assert.equal(streams.stdout.text, ' '.repeat(1023) + '\0', 'the 1024th char gave way to the NUL');
      streams.stdout.readAll();
      assert.equal(printk(BPF_STDOUT, '%1100d', [7n]), -ENOMEM);
      assert.equal(streams.stdout.pending, 0);
      assert.equal(streams.stdout.capacityUsed, 1100);
    });

    it("over-long output with overlong: 'e2big' is -E2BIG and charges nothing", () => {
      setup({ overlong: 'e2big' });
      assert.equal(printk(BPF_STDOUT, '%1024d', [7n]), -E2BIG);
      assert.equal(printk(BPF_STDOUT, '%1023d', [7n]), 0);
      assert.equal(streams.stdout.capacityUsed, 1023);
    });

    it('bpf_stream_vprintk_impl (6.18) takes a fifth aux__prog argument and behaves the same', () => {
      assert.equal(call('bpf_stream_vprintk_impl', BigInt(BPF_STDERR), cstr('%u\n'), argv(3n), 8n, 0n), 0);
      assert.equal(streams.stderr.readAll(), '3\n');
      assert.equal(call('bpf_stream_vprintk_impl', 9n, cstr('x'), 0n, 0n, 0n), -ENOENT);
    });

    it('bpf_stream_print_stack writes the dump of the calling stack and returns 0', () => {
      assert.equal(call('bpf_stream_print_stack', BigInt(BPF_STDERR)), 0);
      const text = streams.stderr.readAll();
      assert.match(text, new RegExp(`^${TRACE_RE}\\n$`));
      assert.equal(text, formatStackDump({ cpu: 0, uid: 0, pid: 42, comm: 'bpfrun' }, frames));
      assert.match(text, /bpf_prog_0123456789abcdef_prog\+0x40\/0x88\n {2}bpf_stream_print_stack\(BPF_STDERR\); @ stream.c:12\n/);
    });

    it('stream_print_stack_invalid_id: -2', () => {
      assert.equal(call('bpf_stream_print_stack', 0n), -2);
      assert.equal(call('bpf_stream_print_stack', 3n), -ENOENT);
    });

    it('print_stack on a full stream drops the dump and still returns 0', () => {
      fill(streams.stdout, 99_990);
      assert.equal(call('bpf_stream_print_stack', BigInt(BPF_STDOUT)), 0);
      assert.equal(streams.stdout.capacityUsed, 99_990);
    });

    it('the task comes from taskOf when given', () => {
      setup({ taskOf: () => ({ cpu: 1, uid: 0, pid: 7, comm: 'test_progs' }) });
      call('bpf_stream_print_stack', BigInt(BPF_STDOUT));
      assert.match(streams.stdout.text, /^CPU: 1 UID: 0 PID: 7 Comm: test_progs\n/);
    });

    it('without streams for the caller every kfunc is -ENOENT', () => {
      setup({ streamsOf: () => undefined });
      assert.equal(printk(BPF_STDOUT, 'foo', null), -ENOENT);
      assert.equal(call('bpf_stream_print_stack', BigInt(BPF_STDOUT)), -ENOENT);
    });
  });

  describe('bpf_bprintf_prepare argument buffer (shared printf)', () => {
    const memory = new AddressSpace();
    const long = memory.map('long', bytes('s'.repeat(600) + '\0'), false);
    const mem: FormatMemory = {
      string: (a, max) => { const s = memory.readString(a, max); return s && str(s.bytes); },
      bytes: (a, len) => memory.read(a, len),
    };
    const addr = AddressSpace.address(long);

    it('a %s string is cut to the 511 bytes that fit with its NUL', () => {
      assert.equal(bpfFormat('%s', [addr], mem), 's'.repeat(511));
    });

    it('strings share the 512 bytes with earlier arguments', () => {
      assert.equal(bpfFormat('%d%s', [1n, addr], mem), '1' + 's'.repeat(507));
    });

    it('a conversion that finds no room left is -ENOSPC', () => {
      assert.equal(bpfFormat('%s%d', [addr, 1n], mem), -ENOSPC);
      assert.equal(bpfFormat('%s%c', [addr, 65n], mem), -ENOSPC);
      assert.equal(bpfFormat('%s%s', [addr, addr], mem), -ENOSPC);
    });

    it('twelve 64-bit arguments fit', () => {
      const args = Array.from({ length: 12 }, () => 0xffffffffffffffffn);
      assert.equal(bpfFormat('%llx'.repeat(12), args, mem), 'ffffffffffffffff'.repeat(12));
    });
  });
});
