// The sched_ext host (sched-ext.md §2, §4, §5, §7) on the project's own schedulers: progs/scx_fifo
// (FIFO and vtime), progs/scx_cidq (cid form, arena, set_cmask), progs/scx_bad (one broken rule
// per struct_ops map), progs/scx_noarena (a cid-form scheduler without an arena). Every run is
// checked on both engines, and the two must agree bit for bit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES, type EngineName } from '../src/engines.js';
import { LoadError } from '../src/errors.js';
import { SchedAttachError, type SchedResult } from '../src/sched/host.js';
import { runScheduler, type SchedRunOptions } from '../src/sched/loader.js';
import { Machine, TopologyError } from '../src/sched/machine.js';
import { parseWorkload, presetWorkload, WorkloadError } from '../src/sched/workload.js';
import { chromeTrace, systrace } from '../src/sched/report.js';
import { niceToScxWeight } from '../src/sched/constants.js';
import { bpfrun } from './helpers.js';
import { PROJECT_ROOT } from './suite.js';

const prog = (name: string) => new Uint8Array(readFileSync(join(PROJECT_ROOT, 'progs', name)));
const FIFO = prog('scx_fifo.bpf.o');
const CIDQ = prog('scx_cidq.bpf.o');
const BAD = prog('scx_bad.bpf.o');

/** Runs on both engines; asserts they agree (op hash and every figure); returns the JIT's run. */
function both(source: Uint8Array, options: SchedRunOptions): ReturnType<typeof runScheduler> {
  const runs = (ENGINES as readonly EngineName[]).map((engine) => runScheduler(source, { selfCheck: true, ...options, engine }));
  const [a, b] = runs;
  assert.equal(a.result.opHash, b.result.opHash, 'both engines make the same op calls');
  assert.deepEqual(a.result, b.result);
  return a;
}

const counter = (run: ReturnType<typeof runScheduler>, name: string) => run.loaded.global(name).value;
const ms = 1e6;

describe('sched_ext host: machine and workloads', () => {
  it('builds the cid tables as scx_cid_init walks the topology (spec §5.1 worked example)', () => {
    const m = new Machine({ cpus: 8, nodes: 2, threadsPerCore: 2 });
    assert.deepEqual(m.cidToCpu, [0, 4, 1, 5, 2, 6, 3, 7]);
    assert.deepEqual(m.cidTopo[5], { coreCid: 4, coreIdx: 2, llcCid: 4, llcIdx: 1, nodeCid: 4, nodeIdx: 1 });
    m.cidToCpu.forEach((cpu, cid) => assert.equal(m.cpuToCid[cpu], cid));
    assert.deepEqual(new Machine({ cpus: 4 }).cidToCpu, [0, 1, 2, 3]);
    assert.throws(() => new Machine({ cpus: 6, nodes: 4 }), TopologyError);
  });

  it('weights are the kernel\'s: sched_prio_to_weight scaled to 1..10000 (nice 0 = 100)', () => {
    assert.deepEqual([-20, -5, 0, 5, 19].map(niceToScxWeight), [8668, 305, 100, 33, 1]);
  });

  it('parses workloads and names the field a bad one gets wrong', () => {
    const w = parseWorkload({ tasks: [{ name: 'a', count: 2, nice: -3, cpus: [1], script: [{ run: '2ms' }, { sleep: 500000 }], loop: false }] }, 4);
    assert.deepEqual(w.tasks[0].script, [{ run: 2e6 }, { sleep: 5e5 }]);
    assert.deepEqual(w.tasks[0].cpus, [1]);
    const bad = (json: unknown, re: RegExp) => assert.throws(() => parseWorkload(json, 4), (e: Error) => e instanceof WorkloadError && re.test(e.message));
    bad({}, /"tasks" array/);
    bad({ tasks: [{ script: [{ run: 'fast' }] }] }, /tasks\[0\]\.script\[0\]\.run: expected a duration/);
    bad({ tasks: [{ script: [{ sleep: '1ms' }] }] }, /at least one run step/);
    bad({ tasks: [{ cpus: [7], script: [{ run: 1 }] }] }, /tasks\[0\]\.cpus: .*0\.\.3/);
    bad({ tasks: [{ nice: 30, script: [{ run: 1 }] }] }, /nice is an integer in -20\.\.19/);
    bad({ tasks: [{ script: [{ run: 1 }], colour: 'red' }] }, /unknown field 'colour'/);
    assert.throws(() => presetWorkload('nope', 4), /no such preset/);
  });
});

describe('sched_ext host: scx_fifo (cpu form)', () => {
  it('FIFO mode: one CPU runs three hogs in turn, 20 ms slices, in queue order', () => {
    const workload = parseWorkload({ tasks: [{ name: 'hog', count: 3, cpus: [0], script: [{ run: '1s' }] }] }, 1);
    const { result } = both(FIFO, { cpus: 1, workload, durationNs: 200 * ms });
    const order = result.slices.map((s) => s.pid);
    assert.deepEqual(order.slice(0, 9), [100, 101, 102, 100, 101, 102, 100, 101, 102]);
    // SCX_SLICE_DFL, expiry noticed at the tick (HZ 1000): every slice but the last is 20 ms.
    for (const s of result.slices.slice(0, -1)) assert.equal(s.end - s.start, 20 * ms);
    assert.equal(result.exit.line, 'EXIT: unregistered from user space');
  });

  it('vtime mode: CPU time follows the weights (two nice -3 and two nice 0 hogs: 194 : 100)', () => {
    const workload = parseWorkload({
      tasks: [{ name: 'heavy', count: 2, nice: -3, cpus: [0], script: [{ run: '10s' }] }, { name: 'light', count: 2, cpus: [0], script: [{ run: '10s' }] }],
    }, 1);
    const { result } = both(FIFO, { cpus: 1, workload, durationNs: 4000 * ms, rodata: { vtime_mode: true } });
    const runtime = result.tasks.map((t) => t.runtimeNs);
    assert.equal(runtime.reduce((a, b) => a + b), 4000 * ms);
    runtime.forEach((r, i) => {
      const expect = (i < 2 ? 194 : 100) / 588;
      assert.ok(Math.abs(r / (4000 * ms) - expect) < 0.02, `task ${i}: share ${r / (4000 * ms)}, weight share ${expect}`);
    });
    // FIFO mode ignores the weights: an even split.
    const fifo = both(FIFO, { cpus: 1, workload, durationNs: 4000 * ms }).result;
    for (const t of fifo.tasks) assert.equal(t.runtimeNs, 1000 * ms);
  });

  it('vtime mode with two hogs alternates whatever the weights: ops.dispatch runs before the expired prev is enqueued', () => {
    // balance_one calls ops.dispatch while prev is not yet back in the DSQ (put_prev_task_scx
    // enqueues it after the pick), so the only candidate is the other task (spec §2.3 C).
    const workload = parseWorkload({ tasks: [{ name: 'heavy', nice: -3, cpus: [0], script: [{ run: '10s' }] }, { name: 'light', cpus: [0], script: [{ run: '10s' }] }] }, 1);
    const { result } = both(FIFO, { cpus: 1, workload, durationNs: 400 * ms, rodata: { vtime_mode: true } });
    assert.deepEqual(result.slices.slice(0, 6).map((x) => x.pid), [100, 101, 100, 101, 100, 101]);
  });

  it('vtime mode: an always-runnable task more than one slice behind is pulled up to vtime_now - slice', () => {
    // The clamp limits what a heavy task gains (weights 305 : 100 : 33): the order holds, the ratio does not.
    const { result } = both(FIFO, { cpus: 1, workload: presetWorkload('weights', 1), durationNs: 2000 * ms, rodata: { vtime_mode: true } });
    const [hi, mid, lo] = result.tasks.map((t) => t.runtimeNs);
    assert.ok(hi > mid && mid > lo, `${hi} > ${mid} > ${lo}`);
    assert.ok(hi / (hi + mid + lo) < 305 / 438);
  });

  it('counts what the scheduler counts, and the exit record its ops.exit wrote', () => {
    const run = both(FIFO, { cpus: 4, workload: 'mixed', durationNs: 300 * ms });
    const { result } = run;
    // The 12 first wakeups: 4 find an idle CPU (direct dispatch, no enqueue), 8 are enqueued.
    assert.equal(counter(run, 'nr_direct'), 4n);
    assert.equal(counter(run, 'nr_enqueued'), BigInt(result.ops.enqueue));
    assert.equal(counter(run, 'nr_dispatched'), BigInt(result.cpus.reduce((s, c) => s + c.picks, 0) - 4 - result.events.SCX_EV_DISPATCH_KEEP_LAST));
    assert.equal(result.ops.init, 1);
    assert.equal(result.ops.enable, 12);
    assert.equal(result.events.SCX_EV_BYPASS_ACTIVATE, 1);
    assert.equal(counter(run, 'exit_kind'), 64n); // SCX_EXIT_UNREG
    const reason = run.loaded.global('exit_reason').bytes;
    assert.equal(String.fromCharCode(...reason.subarray(0, reason.indexOf(0))), 'unregistered from user space');
    // Every CPU busy the whole time under this load; no task lost.
    for (const c of result.cpus) assert.equal(c.busyNs, 300 * ms);
  });

  it('the same inputs give the same run; a different workload a different one', () => {
    const a = runScheduler(FIFO, { cpus: 2, durationNs: 100 * ms });
    const b = runScheduler(FIFO, { cpus: 2, durationNs: 100 * ms });
    const c = runScheduler(FIFO, { cpus: 2, durationNs: 100 * ms, workload: 'hogs' });
    assert.equal(a.result.opHash, b.result.opHash);
    assert.notEqual(a.result.opHash, c.result.opHash);
  });

  it('writes a Chrome trace: one track per CPU, the running slices, DSQ depths and the exit', () => {
    const { result } = runScheduler(FIFO, { cpus: 2, durationNs: 50 * ms });
    const trace = JSON.parse(chromeTrace(result)) as { traceEvents: { ph: string; name: string; tid?: number; dur?: number }[] };
    const slices = trace.traceEvents.filter((e) => e.ph === 'X' && (e as { pid?: number }).pid === 0);
    assert.equal(slices.length, result.slices.length);
    // Per task: its running slices and its waits.
    const taskEvents = trace.traceEvents.filter((e) => e.ph === 'X' && (e as { pid?: number }).pid === 2);
    assert.equal(taskEvents.length, result.slices.length + result.waits.length);
    assert.ok(result.waits.length > 0 && result.waits.every((w) => w.end > w.start));
    // The ftrace text: a sched_switch into every running slice, a sched_wakeup per wakeup.
    const text = systrace(result).split('\n');
    assert.equal(text[0], '# tracer: nop');
    const switches = text.filter((l) => / sched_switch: /.test(l));
    for (const sl of result.slices) {
      assert.ok(switches.some((l) => l.includes(`next_comm=${sl.comm} next_pid=${sl.pid} `) && l.includes(` ${(sl.start / 1e9).toFixed(6)}: `)));
    }
    assert.equal(text.filter((l) => / sched_wakeup: /.test(l)).length, result.wakeups.length);
    assert.ok(switches.every((l) => /prev_state=[RSX] ==> /.test(l)));
    assert.ok(trace.traceEvents.some((e) => e.ph === 'C' && e.name === 'DSQ 0x0'));
    assert.ok(trace.traceEvents.some((e) => e.ph === 'i' && e.name === 'EXIT: unregistered from user space'));
  });
});

describe('sched_ext host: scx_reenq (scx_bpf_dsq_reenq)', () => {
  it('re-enqueues every queued task of the DSQ through ops.enqueue(SCX_ENQ_REENQ) after the op, reason KFUNC', () => {
    const run = both(prog('scx_reenq.bpf.o'), { cpus: 2, workload: 'hogs', durationNs: 500 * ms });
    const calls = counter(run, 'nr_reenq_calls')!, reenq = counter(run, 'nr_reenq')!;
    assert.ok(calls > 0n);
    // 4 hogs on 2 CPUs: 2 running, 2 waiting in the DSQ each time it is re-enqueued.
    assert.equal(reenq, 2n * calls);
    assert.equal(counter(run, 'nr_reason_kfunc'), reenq);
    assert.equal(counter(run, 'nr_enqueued'), BigInt(run.result.ops.enqueue));
  });
});

describe('sched_ext host: a user-space scheduler (progs/scx_usersched, scx_userland\'s shape)', () => {
  it('the co-simulated user-space loop receives every enqueue and dispatches it back; the CPUs stay busy', () => {
    const run = both(prog('scx_usersched.bpf.o'), { cpus: 2, workload: 'hogs', durationNs: 500 * ms });
    const { result } = run;
    const usersched = result.tasks.find((t) => t.pid === 100)!;
    assert.equal(usersched.comm, 'scx_userland');
    assert.ok(usersched.runs > 0);
    assert.equal(counter(run, 'nr_dispatched_pids'), counter(run, 'nr_user_enqueues'));
    const hogs = result.tasks.filter((t) => t.comm.startsWith('hog'));
    const busy = result.cpus.reduce((n, c) => n + c.busyNs, 0);
    assert.equal(busy, 2 * 500 * ms);
    // vruntime order in user space: the four equal hogs share the CPUs evenly.
    for (const h of hogs) assert.ok(Math.abs(h.runtimeNs - 250 * ms) <= 10 * ms, `${h.comm}: ${h.runtimeNs}`);
  });
});

describe('sched_ext host: cgroups (progs/scx_cgroups)', () => {
  it('cgroup_init pre-order with each weight, cgroup_exit in reverse, task cgroups and ancestors as BPF sees them', () => {
    const workload = parseWorkload({
      cgroups: [{ path: '/a', weight: 200 }, { path: '/c' }, { path: '/a/b', weight: 50 }],
      tasks: [{ name: 'inb', cgroup: '/a/b', script: [{ run: '1ms' }, { sleep: '1ms' }] },
        { name: 'inc', cgroup: '/c', script: [{ run: '1ms' }, { sleep: '1ms' }] },
        { name: 'inroot', script: [{ run: '1ms' }, { sleep: '1ms' }] }],
    }, 1);
    const run = both(prog('scx_cgroups.bpf.o'), { cpus: 1, workload, durationNs: 20 * ms });
    const arr = (name: string) => Array.from({ length: 4 }, (_, i) => new DataView(run.loaded.global(name).bytes.buffer, run.loaded.global(name).bytes.byteOffset).getBigUint64(i * 8, true));
    // ids: / = 1, then declaration order: /a = 2, /c = 3, /a/b = 4; pre-order: /, /a, /a/b, /c.
    assert.deepEqual(arr('init_ids'), [1n, 2n, 4n, 3n]);
    assert.deepEqual(arr('init_levels'), [0n, 1n, 2n, 1n]);
    assert.deepEqual(arr('init_weights'), [100n, 200n, 50n, 100n]);
    assert.deepEqual(arr('exit_ids'), [3n, 4n, 2n, 1n]);
    const seen = (pid: number) => {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setInt32(0, pid, true);
      const v = run.loaded.map('task_cgroup').lookup(key)!;
      const dv = new DataView(v.buffer, v.byteOffset);
      return [dv.getBigUint64(0, true), dv.getBigUint64(8, true)];
    };
    assert.deepEqual(seen(100), [4n, 2n]); // /a/b, its level-1 ancestor /a
    assert.deepEqual(seen(101), [3n, 3n]); // /c is its own level-1 ancestor
    assert.deepEqual(seen(102), [1n, 0n]); // the root has no level-1 ancestor
  });

  it('workload cgroups are checked: parents first, known paths, weights 1..10000', () => {
    const bad = (json: unknown, re: RegExp) => assert.throws(() => parseWorkload(json, 1), (e: Error) => e instanceof WorkloadError && re.test(e.message));
    bad({ cgroups: [{ path: '/a/b' }], tasks: [{ script: [{ run: 1 }] }] }, /parent \/a must be declared before it/);
    bad({ cgroups: [{ path: '/a', weight: 0 }], tasks: [{ script: [{ run: 1 }] }] }, /cpu\.weight is an integer in 1\.\.10000/);
    bad({ tasks: [{ cgroup: '/x', script: [{ run: 1 }] }] }, /tasks\[0\]\.cgroup: no cgroup "\/x"/);
  });
});

describe('sched_ext host: scx_cidq (cid form, arena)', () => {
  it('runs with the arena cmask scratch: set_cmask once per task at switch-in, cids translated', () => {
    const run = both(CIDQ, { cpus: 8, topology: { nodes: 2, threadsPerCore: 2 }, workload: 'pinned', durationNs: 100 * ms });
    const { result } = run;
    assert.equal(result.cidForm, true);
    assert.equal(result.ops.set_cmask, 16);
    assert.equal(counter(run, 'nr_set_cmask'), 16n);
    assert.equal(counter(run, 'init_pages_ok'), 1n);
    // Pinned tasks stay on their CPUs: pin<c> only ever runs on CPU c.
    for (const s of result.slices) {
      const t = result.tasks.find((x) => x.pid === s.pid)!;
      if (t.comm.startsWith('pin')) assert.equal(s.cpu, Number(t.comm.slice(3)));
    }
    assert.equal(result.exit.kind, 64);
  });

  it('a task starting later is forked (§2.3 A): init_task, enable, set_weight, no set_cmask; SCX_WAKE_FORK, ENQ_INITIAL', () => {
    const workload = parseWorkload({
      tasks: [{ name: 'early', count: 2, script: [{ run: '5ms' }, { sleep: '5ms' }] },
        { name: 'late', start: '30ms', script: [{ run: '5ms' }, { exit: true }], loop: false }],
    }, 2);
    const { result } = both(CIDQ, { cpus: 2, workload, durationNs: 60 * ms, opTrace: true });
    assert.equal(result.ops.set_cmask, 2);
    const late = result.opTrace.filter((o) => o.args.startsWith('late['));
    // scx_cidq has no init_task/enable: its first ops for the task are the fork's wakeup.
    assert.deepEqual(late.slice(0, 2).map((o) => [o.t, o.op, o.args.replace(/^late\[\d+\],/, '')]),
      [[30 * ms, 'select_cid', '0x0,0x4'], [30 * ms, 'enqueue', '0x80008']]); // SCX_WAKE_FORK; NOCLOCK|INITIAL, no RQ_SELECTED
    assert.equal(result.tasks.find((t) => t.comm === 'late')!.state, 'dead');
  });

  it('a cid-form scheduler without an arena fails to attach with the kernel\'s words (spec §5.2)', () => {
    assert.throws(() => runScheduler(prog('scx_noarena.bpf.o'), { cpus: 2 }),
      (e: Error) => e instanceof SchedAttachError && /cid-form scheduler must use a BPF arena map/.test(e.message));
  });
});

describe('sched_ext host: broken schedulers end with the kernel\'s error and exit info', () => {
  const exitOf = (ops: string, extra: SchedRunOptions = {}): SchedResult => both(BAD, { cpus: 2, durationNs: 3000 * ms, ops, ...extra }).result;

  it('a kfunc called from an op that may not call it is the verifier\'s refusal', () => {
    for (const engine of ENGINES) {
      assert.throws(() => runScheduler(BAD, { cpus: 2, ops: 'bad_kfunc_ops', engine }),
        (e: Error) => e instanceof LoadError && /program bad_kfunc_enqueue: insn \d+: calling kernel function scx_bpf_dsq_move_to_local___v2 is not allowed/.test(e.message)
          && /scx_bad\.bpf\.c:\d+/.test(e.message));
    }
  });

  it('inserting into a DSQ that does not exist: "non-existent DSQ", runtime error', () => {
    const r = exitOf('bad_dsq_ops');
    assert.equal(r.exit.kind, 1024);
    assert.equal(r.exit.line, 'EXIT: runtime error (non-existent DSQ 0x1234) on CPU 0');
    assert.match(r.exit.dump, /^bad_dsq: root\n/);
    assert.match(r.exit.dump, /Event counters/);
  });

  it('select_cpu returning a CPU that does not exist', () => {
    assert.equal(exitOf('bad_cpu_ops').exit.line, 'EXIT: runtime error (invalid CPU 999 from ops.select_cpu()) on CPU 0');
  });

  it('a task that never runs trips the watchdog (timeout_ms 1000: found between 1 and 1.5 s)', () => {
    const r = exitOf('stall_ops');
    assert.equal(r.exit.kind, 1026);
    assert.match(r.exit.line, /^EXIT: runnable task stall \(\S+\[\d+\] failed to run for 1\.5\d\ds\) on CPU \d$/);
    assert.ok(r.exit.atNs >= 1000 * ms && r.exit.atNs <= 1500 * ms);
  });

  it('scx_bpf_error: kind 1025 with the formatted message', () => {
    const r = exitOf('error_ops');
    assert.equal(r.exit.kind, 1025);
    assert.match(r.exit.line, /^EXIT: scx_bpf_error \(progs\/scx_bad\.bpf\.c:\d+: error_ops: enqueue 5 reached the limit 5\) on CPU \d$/);
    assert.equal(exitOf('error_ops', { rodata: { error_after: 2 } }).exit.msg.endsWith('enqueue 2 reached the limit 2'), true);
    // The dump's backtrace is the BPF call chain that raised it, with its source line.
    assert.deepEqual(r.exit.backtrace.map((l) => l.replace(/_[0-9a-f]{16}_/, '_TAG_').replace(/\+0x[0-9a-f]+\/0x[0-9a-f]+/, '')),
      ['  scx_bpf_error_bstr', `  bpf_prog_TAG_error_enqueue  ./progs/scx_bad.bpf.c:${/scx_bad\.bpf\.c:(\d+)/.exec(r.exit.msg)![1]}: `
        + 'scx_fail("error_ops: enqueue %llu reached the limit %llu", n, error_after);']);
    assert.match(r.exit.dump, /\nBacktrace:\n  scx_bpf_error_bstr\+0x0\/0x0\n/);
  });

  it('ops.init failing: "ops.init() failed (-12)"; ops.exit still runs', () => {
    const r = exitOf('init_fail_ops');
    assert.equal(r.exit.line, 'EXIT: runtime error (ops.init() failed (-12)) on CPU 0');
    assert.equal(r.ops.exit, 1);
    assert.equal(r.ops.enable, undefined);
  });
});

describe('sched_ext host: CPU hotplug and hotplug_seq (§2.2 step 9, §2.3 I)', () => {
  it('a CPU going offline under a scheduler without ops.cpu_offline: UNREG_KERN, ACT_RESTART | RSN_HOTPLUG', () => {
    const workload = parseWorkload({ tasks: [{ name: 'hog', count: 4, script: [{ run: '100ms' }] }], hotplug: [{ at: '30ms', cpu: 1, online: false }] }, 2);
    const run = both(FIFO, { cpus: 2, workload, durationNs: 100 * ms });
    const e = run.result.exit;
    assert.equal(e.line, 'EXIT: unregistered from the main kernel (cpu 1 going offline, exiting scheduler) on CPU 1');
    assert.equal(e.kind, 66);
    assert.equal(e.exitCode, (1n << 48n) | (1n << 32n));
    assert.equal(e.restart, true);
    assert.equal(e.atNs, 30 * ms);
    assert.equal(e.dump, ''); // not an error: no dump
    assert.equal(counter(run, 'exit_code'), (1n << 48n) | (1n << 32n)); // what ops.exit saw
  });

  it('a loader\'s hotplug_seq that does not match the kernel\'s count ends the enable', () => {
    const r = both(FIFO, { cpus: 2, durationNs: 10 * ms, opsData: { hotplug_seq: 5 } }).result;
    assert.equal(r.exit.line, 'EXIT: unregistered from the main kernel (expected hotplug seq 5 did not match actual 0) on CPU 0');
    assert.equal(r.ops.enable, undefined);
  });
});

describe('bpfrun sched', () => {
  it('runs a scheduler and prints the exit line, tasks, CPUs and the op hash', () => {
    const r = bpfrun(['sched', join(PROJECT_ROOT, 'progs', 'scx_fifo.bpf.o'), '--cpus', '2', '--duration', '100ms', '--workload', 'hogs']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scheduler fifo \(cpu form, scx_fifo\.bpf\.o\) on 2 CPUs/);
    assert.match(r.stdout, /\nEXIT: unregistered from user space\n/);
    assert.match(r.stdout, /nr_enqueued=\d+/);
    assert.match(r.stdout, /op trace hash: [0-9a-f]{8}/);
  });

  it('usage errors: a bad workload file, a bad duration, an ambiguous object', () => {
    const fifo = join(PROJECT_ROOT, 'progs', 'scx_fifo.bpf.o');
    assert.equal(bpfrun(['sched', fifo, '--duration', 'soon']).status, 2);
    assert.match(bpfrun(['sched', fifo, '--workload', 'nosuch']).stderr, /cannot read nosuch: ENOENT/);
    const r = bpfrun(['sched', join(PROJECT_ROOT, 'progs', 'scx_bad.bpf.o')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /6 sched_ext struct_ops maps .*: choose one/);
  });
});
