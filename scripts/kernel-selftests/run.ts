/**
 * Runs the Linux kernel's verifier selftests (compiled by build.sh) on bpfrun as the kernel's
 * test_loader.c (tools/testing/selftests/bpf) runs them, and compares each program's retval
 * with its `__retval`. A developer tool, not part of the test suite:
 *
 *   npx tsc -p . && node dist/scripts/kernel-selftests/run.js [OBJ_DIR] [--json FILE] [--only NAME]
 *       [--verbose] [--engine jit|interp] [--load-all]
 *
 * What it follows from test_loader.c:
 * - the annotations are BTF decl tags "comment:<counter>:test_*" on each program's FUNC
 *   (collect_decl_tags, parse_test_spec);
 * - a program is executed in the privileged run when it has `__retval` (test_retval=), is not
 *   `__failure`, its `__arch_*` tags (if any) include X86_64, and its load mode (if any) is
 *   "jited" (x86-64 JITs). BPF_F_ANY_ALIGNMENT does not prevent it: x86-64 has
 *   CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS (should_do_test_run);
 * - only the program under test and the `__auxiliary` programs are loaded
 *   (bpf_program__set_autoload);
 * - do_prog_test_run: data_in 64 zero bytes (TEST_DATA_LEN), data_out 256 bytes, repeat 1; a
 *   `__linear_size(N)` adds ctx_in = a struct __sk_buff with data_end = N; SEC("syscall")
 *   programs get empty options. retval is compared as an int; POINTER_VALUE accepts any.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BpfObject, openObject } from '../../src/object.js';
import type { EngineName } from '../../src/engines.js';
import type { ObjectSpec, ProgramSpec } from '../../src/loader/spec.js';
import { hasProgramTypeModel } from '../../src/progtypes/index.js';
import { findContextAccesses } from '../../src/isa/ctx-ptr.js';
import { validate } from '../../src/isa/validate.js';
import { BPF_ABS, BPF_IND, BPF_LD, CLASS_MASK, MODE_MASK } from '../../src/isa/opcodes.js';

const TEST_DATA_LEN = 64;
const POINTER_VALUE = 0xbadcafe;
const SK_BUFF_SIZE = 192; // sizeof(struct __sk_buff), include/uapi/linux/bpf.h

/** Program types the kernel's BPF_PROG_TEST_RUN supports (bpf_prog_ops .test_run), by libbpf name. */
const KERNEL_TEST_RUNS = new Set([
  'socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local', 'xdp',
  'flow_dissector', 'raw_tracepoint', 'tracing', 'struct_ops', 'sk_lookup', 'syscall', 'netfilter',
]);

interface TestSpec {
  readonly name: string;
  readonly tags: readonly string[];
  readonly auxiliary: boolean;
  readonly execute: boolean;
  readonly failure: boolean;
  readonly retval?: number;
  readonly arch: readonly string[];
  readonly loadMode?: string;
  readonly linearSize?: number;
  readonly valid: boolean;
}

type Outcome =
  | { kind: 'match' }
  | { kind: 'mismatch'; got: number; want: number }
  | { kind: 'load'; cause: string; message: string }
  | { kind: 'run'; cause: string; message: string }
  | { kind: 'type'; type: string; kernelRuns: boolean };

interface Result {
  readonly file: string;
  readonly program: string;
  readonly type: string;
  readonly section: string;
  /** Whether the program reads its context: a context access or LD_ABS / LD_IND. */
  readonly readsContext: boolean;
  readonly outcome: Outcome;
}

/** A context access (as bpfrun finds them at load: PTR_TO_CTX) or a legacy packet load. */
function readsContext(p: ProgramSpec): boolean {
  if (p.insns.some((i) => (i.opcode & CLASS_MASK) === BPF_LD && ((i.opcode & MODE_MASK) === BPF_ABS || (i.opcode & MODE_MASK) === BPF_IND))) return true;
  try {
    return findContextAccesses(p.insns, validate(p.insns, new Map())).size > 0;
  } catch {
    return false;
  }
}

/** test_loader.c's parse_int / parse_retval: "0x" hex or decimal, as a C int. */
function parseInt32(s: string): number {
  if (s === '_INT_MIN') return -0x80000000;
  const v = s.startsWith('0x') ? BigInt(s) : BigInt(s.replace(/^\+/, ''));
  return Number(BigInt.asIntN(32, v));
}

/** strverscmp-like order of the "comment:<n>:" tags: by counter. */
function tagsOf(spec: ObjectSpec, name: string): string[] {
  const btf = spec.btf;
  if (!btf) return [];
  const func = btf.types.findIndex((t) => t.kind === 'FUNC' && t.name === name);
  if (func < 0) return [];
  const found: Array<[number, string]> = [];
  for (const t of btf.types) {
    if (t.kind !== 'DECL_TAG' || t.type !== func || t.componentIdx !== -1) continue;
    const m = /^comment:(\d+):(.*)$/s.exec(t.name);
    if (m) found.push([Number(m[1]), m[2]!]);
  }
  return found.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

function parseSpec(spec: ObjectSpec, p: ProgramSpec): TestSpec {
  const tags = tagsOf(spec, p.name);
  let execute = false, failure = false, auxiliary = false, retval: number | undefined, loadMode: string | undefined;
  let linearSize: number | undefined;
  let priv = false, unpriv = false;
  const arch: string[] = [];
  for (const s of tags) {
    let v: string | undefined;
    if (s === 'test_expect_failure') { failure = true; priv = true; }
    else if (s === 'test_expect_success') { failure = false; priv = true; }
    else if (s === 'test_expect_failure_unpriv' || s === 'test_expect_success_unpriv') unpriv = true;
    else if (s === 'test_auxiliary') { auxiliary = true; priv = true; }
    else if (s === 'test_auxiliary_unpriv') { auxiliary = true; unpriv = true; }
    else if ((v = pfx(s, 'test_retval='))) { retval = parseInt32(v); execute = true; priv = true; }
    else if (pfx(s, 'test_retval_unpriv=') || pfx(s, 'test_expect_msg_unpriv=') || pfx(s, 'test_expect_not_msg_unpriv=')
      || pfx(s, 'test_expect_xlated_unpriv=') || pfx(s, 'test_jited_unpriv=') || pfx(s, 'test_caps_unpriv=')) unpriv = true;
    else if (pfx(s, 'test_expect_msg=') || pfx(s, 'test_expect_not_msg=') || pfx(s, 'test_expect_xlated=')) priv = true;
    else if ((v = pfx(s, 'test_arch='))) arch.push(v);
    else if ((v = pfx(s, 'load_mode='))) loadMode = v;
    else if ((v = pfx(s, 'test_linear_size='))) linearSize = parseInt32(v);
  }
  if (!priv && !unpriv) priv = true;
  return {
    name: p.name, tags, auxiliary, execute: execute && priv, failure, retval, arch, loadMode, linearSize,
    valid: tags.length > 0,
  };
}

function pfx(s: string, prefix: string): string | undefined {
  return s.startsWith(prefix) ? s.slice(prefix.length) : undefined;
}

/** An error message with the names and numbers taken out: what failures are grouped by. */
function causeOf(e: unknown): string {
  const name = e instanceof Error ? e.constructor.name : 'throw';
  let msg = e instanceof Error ? e.message : String(e);
  msg = msg.split('\n')[0]!
    .replace(/^program \S+: /, '')
    .replace(/ \(\S+ at \/.*$/, '')
    .replace(/ \(\/\S+\.c:\d+.*$/, '')
    .replace(/ is outside every memory region .*$/, ' is outside every memory region')
    .replace(/^(instruction|insn) \d+: /, '')
    .replace(/0x[0-9a-f]+/gi, 'N')
    .replace(/\d+/g, 'N')
    .replace(/'[^']*'/g, "'…'");
  return `${name}: ${msg}`.slice(0, 110);
}

/**
 * The pre_execution_cb of prog_tests/verifier.c (init_test_val_map): before the run, element 0
 * of the named map gets a struct test_val { .index = (6 + 1) * sizeof(int), .foo[6] = 0xabcdef12 }.
 */
const PRE_EXECUTION: Readonly<Record<string, string>> = {
  verifier_array_access: 'map_array_ro',
  verifier_value_ptr_arith: 'map_array_48b',
};

function testVal(size: number): Uint8Array {
  const value = new Uint8Array(size);
  const view = new DataView(value.buffer);
  view.setUint32(0, 7 * 4, true);
  view.setUint32(4 + 6 * 4, 0xabcdef12, true);
  return value;
}

function runOne(file: string, spec: ObjectSpec, specs: readonly TestSpec[], t: TestSpec, engine: EngineName | undefined,
  loadAll: boolean): Result {
  const p = spec.programs.find((x) => x.name === t.name)!;
  const base = { file, program: p.name, type: p.type.name, section: p.section, readsContext: readsContext(p) };
  if (!hasProgramTypeModel(p.type.name)) {
    return { ...base, outcome: { kind: 'type', type: p.type.name === 'unknown' ? `unknown (${p.section})` : p.type.name, kernelRuns: KERNEL_TEST_RUNS.has(p.type.name) } };
  }
  const obj = new BpfObject(spec);
  // --load-all: every program of the object at once (bpfrun's only way before setAutoload).
  for (const q of spec.programs) obj.setAutoload(q.name, loadAll || q.name === t.name || specs.some((s) => s.name === q.name && s.auxiliary));
  let loaded;
  try {
    loaded = obj.load(engine ? { engine } : {});
  } catch (e) {
    return { ...base, outcome: { kind: 'load', cause: causeOf(e), message: (e as Error).message ?? String(e) } };
  }
  const program = loaded.program(p.name);
  try {
    const pre = PRE_EXECUTION[file];
    if (pre) {
      const map = loaded.map(pre);
      map.update(new Uint8Array(4), testVal(map.valueSize));
    }
    const syscall = p.type.name === 'syscall';
    let ctx: Uint8Array | undefined;
    if (t.linearSize !== undefined && t.linearSize !== 0) {
      ctx = new Uint8Array(SK_BUFF_SIZE);
      new DataView(ctx.buffer).setUint32(80, t.linearSize, true); // __sk_buff.data_end
    }
    const r = program.testRun(syscall ? { instructionBudget: 20_000_000, timeoutMs: 10_000 } : {
      data: new Uint8Array(TEST_DATA_LEN), dataSizeOut: TEST_DATA_LEN << 2, repeat: 1, ctx,
      instructionBudget: 20_000_000, timeoutMs: 10_000,
    });
    const got = r.retval | 0;
    if (t.retval === POINTER_VALUE || got === t.retval) return { ...base, outcome: { kind: 'match' } };
    return { ...base, outcome: { kind: 'mismatch', got, want: t.retval! } };
  } catch (e) {
    return { ...base, outcome: { kind: 'run', cause: causeOf(e), message: (e as Error).message ?? String(e) } };
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const json = flag('--json');
  const only = flag('--only');
  const engine = flag('--engine') as EngineName | undefined;
  const verbose = args.includes('--verbose');
  const loadAll = args.includes('--load-all');
  const dir = args.filter((a) => !a.startsWith('--'))[0] ?? '/tmp/bpfrun-kselftests/obj';
  const files = readdirSync(dir).filter((f) => f.endsWith('.bpf.o') && (!only || f.includes(only))).sort();
  const results: Result[] = [];
  const openFailures: Array<{ file: string; cause: string }> = [];
  const perFile: string[] = [];
  let selected = 0;
  for (const f of files) {
    const file = basename(f, '.bpf.o');
    let spec: ObjectSpec;
    try {
      spec = openObject(join(dir, f)).spec;
    } catch (e) {
      openFailures.push({ file, cause: causeOf(e) });
      perFile.push(`${file.padEnd(40)} open failed: ${causeOf(e)}`);
      continue;
    }
    const specs = spec.programs.map((p) => parseSpec(spec, p));
    const toRun = specs.filter((t) => t.valid && !t.auxiliary && t.execute && !t.failure
      && (t.arch.length === 0 || t.arch.includes('X86_64')) && (t.loadMode === undefined || t.loadMode === 'jited'));
    selected += toRun.length;
    const mine = toRun.map((t) => runOne(file, spec, specs, t, engine, loadAll));
    results.push(...mine);
    const count = (k: Outcome['kind']) => mine.filter((r) => r.outcome.kind === k).length;
    if (mine.length) {
      perFile.push(`${file.padEnd(40)} run ${String(mine.length).padStart(3)}  match ${String(count('match')).padStart(3)}`
        + `  mismatch ${count('mismatch')}  load ${count('load')}  run-err ${count('run')}  type ${count('type')}`);
    }
  }

  const by = (k: Outcome['kind']) => results.filter((r) => r.outcome.kind === k);
  const executed = results.length - by('type').length;
  console.log('per file:');
  for (const l of perFile) console.log('  ' + l);
  console.log('');
  console.log(`objects: ${files.length} (${openFailures.length} failed to open)`);
  console.log(`programs selected (__retval, not __failure, x86-64): ${selected}`);
  console.log(`  type not test-runnable here: ${by('type').length}`);
  console.log(`  executed on bpfrun: ${executed}`);
  console.log(`    matched:         ${by('match').length}`);
  console.log(`    mismatched:      ${by('mismatch').length}`);
  console.log(`    failed to load:  ${by('load').length}`);
  console.log(`    failed at run:   ${by('run').length}`);
  const ctx = results.filter((r) => r.readsContext);
  const ctxBy = (k: Outcome['kind']) => ctx.filter((r) => r.outcome.kind === k).length;
  console.log(`  of which read their context (a context access or LD_ABS/LD_IND): ${ctx.length}`
    + ` (type not test-runnable ${ctxBy('type')}); executed ${ctx.length - ctxBy('type')}: matched ${ctxBy('match')},`
    + ` mismatched ${ctxBy('mismatch')}, failed to load ${ctxBy('load')}, failed at run ${ctxBy('run')}`);

  const group = (rs: Result[], key: (r: Result) => string) => {
    const m = new Map<string, Result[]>();
    for (const r of rs) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return [...m].sort((a, b) => b[1].length - a[1].length);
  };
  const show = (title: string, rs: Result[], key: (r: Result) => string) => {
    if (!rs.length) return;
    console.log(`\n${title}:`);
    for (const [k, list] of group(rs, key)) {
      console.log(`  ${String(list.length).padStart(4)}  ${k}`);
      const sample = list.slice(0, verbose ? list.length : 3).map((r) => `${r.file}/${r.program}`).join(', ');
      console.log(`        e.g. ${sample}`);
    }
  };
  show('type not test-runnable here (kernel test-runs it: yes/no)', by('type'), (r) => r.outcome.kind === 'type'
    ? `${r.outcome.type} (kernel: ${r.outcome.kernelRuns ? 'yes' : 'no'})` : '');
  show('failed to load, by cause', by('load'), (r) => (r.outcome.kind === 'load' ? r.outcome.cause : ''));
  show('failed at run, by cause', by('run'), (r) => (r.outcome.kind === 'run' ? r.outcome.cause : ''));
  show('mismatched, by program type', by('mismatch'), (r) => r.type);
  if (verbose) {
    for (const r of by('mismatch')) if (r.outcome.kind === 'mismatch') console.log(`  ${r.file}/${r.program}: got ${r.outcome.got}, want ${r.outcome.want}`);
    for (const r of [...by('load'), ...by('run')]) if (r.outcome.kind === 'load' || r.outcome.kind === 'run') console.log(`  ${r.file}/${r.program}: ${r.outcome.message.split('\n')[0]}`);
  }
  if (json) writeFileSync(json, JSON.stringify({ selected, results, openFailures }, null, 1));
}

main();
