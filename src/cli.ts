#!/usr/bin/env node
/**
 * The `bpfrun` command line. Each subcommand is a small function over the library API; errors
 * the runtime reports (BpfError) print as one line on stderr (their causes indented under it,
 * see `causeLines`) with exit status 1, usage errors with status 2. A file that cannot be read or
 * written is one line naming the file and the errno (`bpfrun: cannot write /dev/full: ENOSPC (no
 * space left on device)`), status 1; inputs must be regular files under 1 GiB (`-` for standard
 * input where a command takes it), checked before they are read.
 */
import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync, readFileSync, Stats, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { assemble } from './asm/assembler.js';
import { disassemble } from './asm/disassembler.js';
import { prepareConformanceProgram, runConformanceProgram } from './conformance.js';
import { DEFAULT_INSTRUCTION_BUDGET } from './program.js';
import { createEngine, DEFAULT_ENGINE, EngineName, ENGINES, hasEngine, JS_EMITTING_ENGINE } from './engines.js';
import { BpfError, causeLines, describeValue, FibConfigError, TestRunError } from './errors.js';
import { Fib } from './net/fib.js';
import { Capture, PcapError, readCapture, writePcap } from './pcap.js';
import type { Program, RunOptions, TestRunResult } from './program.js';
import { AF_INET6, type RedirectRecord } from './net/skb.js';
import { ctxFromFields, ctxLayout, ctxToFields, verdictName } from './test-run-io.js';
import { errnoName } from './uapi.js';
import { decode, Instruction, parseHexBytecode, toHexLines } from './isa/instruction.js';
import { BpfObject, LoadOptions, MapAttributes, MapEntry, openObject } from './object.js';
import { KERNEL_VERSIONS, KernelVersion } from './kernel/profile.js';
import { checkKfuncSpec, KfuncSpec, looksLikeKfuncSpec } from './kfunc/api.js';
import { basename, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AddressSpace } from './memory.js';
import type { TaskOptions } from './kernel/objects.js';
import { ExecEnv } from './runtime.js';
import { describeObject, disassembleObject, formatRunReport, perfLines, perfReport, runReportJson } from './report.js';
import { drainPerfMaps, PerfMapRecords, runPrograms } from './runs.js';
import { decodeRecord, encodeRecord, formatInspect, recordJson, RunRecordView, tracelog } from './record.js';
import { explorationJson, formatRaceLab, raceLab } from './racelab/report.js';
import { attachScheduler, loadScheduler, prepareScheduler } from './sched/loader.js';
import { parseDuration, parseWorkload, presetWorkload, PRESETS, WorkloadError } from './sched/workload.js';
import { chromeTrace, formatSchedReport, schedulerCounters, systrace } from './sched/report.js';
import { TopologyError } from './sched/machine.js';

class UsageError extends Error {}

/** A file the command line cannot read or write: one line naming the file and why, exit status 1. */
class FileError extends Error {}

/**
 * Input files larger than this are refused before they are read. A BPF object is at most a few
 * MiB (the kernel loads at most 1 M instructions); Node cannot read 2 GiB or more into one
 * buffer at all, and a file near that size would take as much memory again to parse.
 */
const MAX_INPUT_BYTES = 1 << 30;

/** Node's system errors (ENOENT, ENOSPC, ELOOP, ...): `code` is the errno's name. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  const { code, syscall } = (e instanceof Error ? e : {}) as NodeJS.ErrnoException;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof syscall === 'string';
}

/** `ENOSPC (no space left on device)`, from Node's `ENOSPC: no space left on device, write`. */
function errnoText(e: NodeJS.ErrnoException & { code: string }): string {
  const text = new RegExp(`^${e.code}: ([^,]+)`).exec(e.message)?.[1];
  return text === undefined ? e.code : `${e.code} (${text})`;
}

/** A system error as a FileError naming the file; anything else is returned as is. */
function fileError(action: 'read' | 'write', file: string, e: unknown): unknown {
  if (!isSystemError(e)) return e;
  return new FileError(`cannot ${action} ${file}: ${errnoText(e)}`, { cause: e });
}

/** What a file that is not a regular file is, for the message that refuses it. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'EISDIR (is a directory)';
  if (st.isFIFO()) return 'not a regular file (a FIFO)';
  if (st.isCharacterDevice()) return 'not a regular file (a character device)';
  if (st.isBlockDevice()) return 'not a regular file (a block device)';
  if (st.isSocket()) return 'not a regular file (a socket)';
  return 'not a regular file';
}

/** Refuses what is not a regular file below MAX_INPUT_BYTES, before anything is read. */
function checkInputStat(file: string, st: Stats): void {
  if (!st.isFile()) throw new FileError(`cannot read ${file}: ${fileKind(st)}`);
  if (st.size >= MAX_INPUT_BYTES) {
    throw new FileError(`cannot read ${file}: EFBIG (${st.size} bytes; input files must be smaller than 1 GiB)`);
  }
}

/** Checks an input file as readFile does, without reading it (for files read elsewhere). */
function checkInputFile(file: string): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw fileError('read', file, e);
  }
  checkInputStat(file, st);
}

/**
 * The bytes of an input file: a regular file smaller than MAX_INPUT_BYTES, checked before it is
 * opened (opening a FIFO would wait for a writer) and again once open (it may have been replaced).
 */
function readFile(file: string): Buffer {
  checkInputFile(file);
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    checkInputStat(file, fstatSync(fd));
    return readFileSync(fd);
  } catch (e) {
    throw fileError('read', file, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes an output file; a system error (ENOSPC, EACCES, ...) becomes a FileError. */
function writeFile(file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (e) {
    throw fileError('write', file, e);
  }
}

/** A JSON input file, parsed; invalid JSON is a FileError naming the file. */
function parseJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFile(file).toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new FileError(`${file}: not valid JSON (${e.message})`);
    throw e;
  }
}

/** An object file, read as readFile reads inputs, named as openObject names a path. */
function openObjectFile(file: string): BpfObject {
  return openObject(readFile(file), basename(file));
}

/**
 * Programs the command line names are loaded even in a `SEC("?...")` section (autoload off by
 * default), as a libbpf loader calls bpf_program__set_autoload for the program it wants.
 * Unknown names are left for the command to report.
 */
function autoloadNamed(opened: BpfObject, names: readonly string[] | string | undefined): BpfObject {
  for (const name of typeof names === 'string' ? [names] : names ?? []) {
    if (opened.programs.some((p) => p.name === name)) opened.setAutoload(name, true);
  }
  return opened;
}

const HELP = `bpfrun — a userspace eBPF runtime

Usage:
  bpfrun run FILE.o [--prog NAME]... [--engine jit|wasm|interp] [--ctx-hex HEX] [--data-hex HEX] [--json]
                    [--arena-globals start|end] [--kfuncs MODULE.js]... [--strict-kfuncs]
                    [--record FILE.pb] [--budget N|none] [--timeout SECONDS] [--advance-time DURATION]
                    [MAP, KCONFIG, KERNEL AND BTF OPTIONS]
        Load a clang-built BPF object and run its SEC("syscall") programs (or the named ones) in
        file order; print each program's return value and BPF streams, every global variable
        (__arena ones too), the trace and the arena's state. __arena globals go at the end of
        the arena (libbpf on kernels with full-range ld_imm64 offsets: the 7.2 default) or at its
        start (the 6.18 default).
        --kfuncs loads kfuncs written in JavaScript (defineKfunc); --strict-kfuncs enforces
        the GUARD_SZ / 2 contract on their arena accesses. --record writes a run record
        (proto/run_record.proto): the runs, every stream message and every fault, in order.
        --budget ends each program's run after N instructions (default ${DEFAULT_INSTRUCTION_BUDGET}: the
        kernel's verifier would reject a program that never ends; bpfrun stops it instead);
        --budget none lifts the limit. --timeout ends a run that takes longer than SECONDS
        (the clock is read every 2^20 instructions; exec and run-raw take it too).
        --advance-time (e.g. 20ms) moves the simulated clock on after the runs: the bpf_timer and
        bpf_wq callbacks due by then run, in order, and the report lists them.
  bpfrun test-run FILE.o --prog NAME [--data-in FILE | --data-hex HEX] [--ctx-in FILE|HEX|JSON]
                  [--repeat N] [--data-size-out N] [--ctx-size-out N] [--flags N] [--cpu N]
                  [--data-out FILE] [--engine jit|wasm|interp] [--json] [--budget N|none] [--timeout SECONDS]
                  [--kfuncs MODULE.js]... [--fib FILE.json] [MAP, KCONFIG, KERNEL AND BTF OPTIONS]
  bpfrun test-run FILE.o --prog NAME --pcap IN.pcap [--pcap-out OUT.pcap] [--verbose] [--ctx-in ...]
        BPF_PROG_TEST_RUN as the kernel runs it for the program's type (xdp, tc, socket filter,
        cgroup_skb, lwt, flow dissector, raw_tp, syscall): the packet (data_in), the context
        (ctx_in: a file, hex bytes, or JSON fields by name such as '{"mark":1,"cb":[1,2]}'),
        repeat, the sizes of the outputs; prints retval and its verdict, data_out and ctx_out,
        or the kernel's errno for an input the kernel refuses. With --pcap, runs the program
        on every packet of a capture (pcap or pcapng) and prints the count of each verdict
        (each packet's with --verbose); --pcap-out writes every output packet as a pcap file.
        --fib gives bpf_fib_lookup its network (JSON: devices, routes, neighbours; see the
        README); without it only lo exists, forwarding off, and lookups return FWD_DISABLED (5).
  MAP, KCONFIG, KERNEL AND BTF OPTIONS (run, test-run; --map, --map-entry, --map-entries and --kconfig
  may repeat), applied before load as a loader would:
        --kernel 7.2|6.18         the kernel to emulate (default 7.2): every per-version rule
                                  (README "Kernel profiles"): __arena globals placement, stream
                                  kfunc names, scratch-page recovery, faulting arena atomics,
                                  arena ALU narrowing, deferred arena frees
        --map NAME.FIELD=N        libbpf's bpf_map__set_*: FIELD is max_entries, key_size,
                                  value_size, map_flags, numa_node or map_extra
        --map-entry NAME:KEY=VAL  an element written after the maps are created, before any
                                  program runs; KEY and VAL are hex bytes (01000000)
        --map-entries NAME=FILE   the same from a JSON file: [{"key": K, "value": V}, ...], each
                                  hex bytes or an unsigned integer (little-endian, the field's size)
        --kconfig NAME=VALUE      a __kconfig extern's value, as a .config line gives it (y, n, m,
                                  an integer, "text"); before the simulated kernel's config
        --kconfig-file FILE       more values in .config syntax (an error names its line)
        --btf FILE|simulated      the target kernel BTF CO-RE relocations are applied against
                                  (raw BTF as /sys/kernel/btf/vmlinux, an ELF with .BTF, or
                                  'simulated': the simulated kernel's types); without it they
                                  resolve against the object's own BTF
        --task pid=N,tgid=N,uid=N,gid=N,ppid=N,comm=TEXT   the current task (bpf_get_current_task(_btf),
                                  _pid_tgid, _uid_gid, _comm); any subset (defaults 1, 1, 0, 0, 0, bpfrun)
  bpfrun inspect FILE.pb [--stream stdout|stderr] [--faults] [--prog NAME] [--json]
        Read a run record back: the runs, then the events (all, or the filtered ones) in order.
  bpfrun tracelog stdout|stderr FILE.pb [--prog NAME]
        Print one stream of a run record as 'bpftool prog tracelog' prints it.
  bpfrun info FILE.o
        Programs, maps, globals and externs of an object.
  bpfrun disasm FILE.o [--emit-js [--prog NAME]... [--kernel 7.2|6.18]]
        Each program of an object, linked as the kernel sees it, with source lines; with
        --emit-js, the JavaScript the JIT generates for it and its exception table (for the
        kernel profile given: the code differs where the profiles do).
  bpfrun exec FILE [--mem HEX] [--engine jit|wasm|interp] [--budget N|none] [--timeout SECONDS]
        Assemble FILE (conformance dialect; '.hex'/'.bin' files are bytecode) and run it with
        r1 = the input memory, r2 = its length. Prints r0 and the instruction count.
  bpfrun run-raw FILE.bin --mem FILE [--engine jit|wasm|interp] [--repeat N] [--budget N|none]
                 [--timeout SECONDS] [--json]
        Run raw bytecode (little-endian 8-byte slots, as 'llvm-objcopy -O binary
        --only-section=.text' extracts it) with r1 = a copy of the memory file's bytes, r2 = its
        length, N times (default 1). Prints r0, the instruction count and the median time per
        run (building the engine excluded).
  bpfrun asm FILE|-
        Print the bytecode of an assembler file: hex bytes, one instruction slot a line.
  bpfrun disasm FILE.hex|-
        Disassemble bytecode (hex bytes or 64-bit hex words, as 'asm' prints) in LLVM syntax.
  bpfrun conformance-plugin [MEMHEX] [--engine jit|wasm|interp]
        The bpf_conformance plugin protocol: program as hex bytes on stdin, input memory as one
        hex argument; prints r0 in hex.
  bpfrun race-lab [--variant pre-fix|fixed|both] [--arch x86_64|arm64|both] [--json]
        Explore every interleaving of bpf_arena_alloc_pages (pre-fix / fixed PTE install) racing a
        kfunc's scratch-page fault on another CPU; print the outcome table (both variants by default).
  bpfrun sched FILE.o [--cpus N] [--nodes N] [--llcs N] [--smt N] [--workload FILE.json|PRESET]
                      [--duration 5s] [--seed N] [--hz N] [--engine jit|wasm|interp] [--ops MAP]
                      [--rodata NAME=VALUE]... [--ops-data MEMBER=VALUE]... [--resize ARRAY=N]...
                      [--trace OUT.json|OUT.systrace] [--op-trace OUT.txt] [--json] [--progress] [--self-check]
        Run a sched_ext scheduler (cpu or cid form, as compiled for the kernel) on a simulated
        machine: the loader's steps (enum rodata, exit dump size, the given options), then the
        kernel's enable, the workload's tasks (presets: mixed, hogs, weights, pinned, kthreads;
        or a JSON file: {"cgroups": [{"path", "weight"}], "hotplug": [{"at", "cpu", "online"}],
        "tasks": [{"name", "count", "nice",
        "cpus", "kthread", "cgroup", "start", "script": [{"run": "5ms"}, {"sleep": "5ms"}, ...],
        "loop"}]}) for --duration of simulated
        time, then the disable. Prints the exit line, per-task and per-CPU figures, DSQ depths,
        event counters, the scheduler's own counters and a hash of every op call (equal on both
        engines); --trace writes a Chrome trace (OUT.json) or ftrace text (any other name; both
        open in Perfetto); --self-check checks the
        host's own invariants after every event.
  bpfrun --help`;

function readInput(file: string | undefined): string {
  if (file === undefined) throw new UsageError('missing FILE (use - for standard input)');
  if (file !== '-') return readFile(file).toString('utf8');
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    throw fileError('read', 'standard input', e);
  }
}

/** The engine to run on: the JIT unless `--engine interp` says otherwise. */
function engineOf(value: string | undefined): EngineName {
  const engine = value ?? DEFAULT_ENGINE;
  if (hasEngine(engine)) return engine;
  throw new UsageError(`unknown engine '${engine}' (${ENGINES.join(' or ')})`);
}

function parseMemHex(text: string | undefined): Uint8Array {
  const hex = (text ?? '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new UsageError('memory must be an even number of hex digits');
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function positiveInt(text: string | undefined, fallback: number, what: string, orElse = ''): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what} must be a positive integer${orElse}`);
  return n;
}

/**
 * A run's limits: `--budget N` or `--budget none` (no limit), the default budget when not
 * given; `--timeout SECONDS` (a positive number), none when not given.
 */
function runLimits(values: { budget?: string; timeout?: string }): { instructionBudget: number; timeoutMs?: number } {
  const instructionBudget = values.budget === 'none' ? Infinity : positiveInt(values.budget, DEFAULT_INSTRUCTION_BUDGET, '--budget', ' or none');
  if (values.timeout === undefined) return { instructionBudget };
  const seconds = Number(values.timeout);
  if (!/^\d+(\.\d+)?$/.test(values.timeout) || !(seconds > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  return { instructionBudget, timeoutMs: seconds * 1000 };
}

/** Assembler text, or bytecode when the file looks like hex bytes/words. */
function loadProgram(file: string | undefined): Instruction[] {
  const text = readInput(file);
  if (file && /\.(hex|bin)$/.test(file)) return decode(parseHexBytecode(text));
  return assemble(text);
}

function emptyEnv(): ExecEnv {
  return { memory: new AddressSpace(), natives: { helpers: new Map(), kfuncs: new Map() } };
}

/**
 * The kfuncs a module exports: its default export (a kfunc or an array of them) and every named
 * export that is meant as a kfunc definition (an object with name, args and impl). Each is checked
 * (checkKfuncSpec); anything wrong with the module is one usage error naming the file.
 */
async function loadKfuncModule(file: string): Promise<KfuncSpec[]> {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(resolvePath(file));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot load kfunc module ${file}: ${oneLine(describeValue(e))}`, { cause: e });
  }
  const specs: KfuncSpec[] = [];
  try {
    const exported = (name: string, value: unknown): Array<[string, unknown]> =>
      Array.isArray(value) ? value.map((v, i) => [`${name}[${i}]`, v]) : [[name, value]];
    const candidates = [...exported('default', mod.default), ...Object.entries(mod).filter(([k]) => k !== 'default').flatMap(([k, v]) => exported(k, v))];
    for (const [name, value] of candidates) {
      if (looksLikeKfuncSpec(value)) specs.push(checkKfuncSpec(value, undefined, `export ${name}`));
    }
  } catch (e) {
    throw new UsageError(`kfunc module ${file}: ${oneLine(describeValue(e))}`, { cause: e });
  }
  if (specs.length === 0) throw new UsageError(`${file} exports no kfunc (use defineKfunc from bpfrun)`);
  return [...new Map(specs.map((k) => [k.name, k])).values()];
}

/**
 * Imports a module. A TypeScript module runs as is where Node strips types; elsewhere it is
 * transpiled with the TypeScript compiler (when installed) to a sibling file, imported from there
 * (so its relative imports and `bpfrun` resolve as they would for the source), and removed.
 */
async function importModule(path: string): Promise<Record<string, unknown>> {
  const nodeStripsTypes = (process.features as { typescript?: unknown }).typescript;
  if (!/\.[mc]?ts$/.test(path) || nodeStripsTypes) return await import(pathToFileURL(path).href) as Record<string, unknown>;
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch (e) {
    throw new UsageError(`${path}: this Node.js (${process.version}) cannot run TypeScript and the typescript package is not installed; ` +
      'compile the module to .js, install typescript, or use a Node that strips types', { cause: e });
  }
  const out = ts.transpileModule(readFileSync(path, 'utf8'), {
    fileName: path, reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (errors.length > 0) throw new UsageError(`${path}: ${errors.join('; ')}`);
  const js = `${path}.bpfrun-${process.pid}.mjs`;
  writeFileSync(js, out.outputText);
  try {
    return await import(pathToFileURL(js).href) as Record<string, unknown>;
  } finally {
    unlinkSync(js);
  }
}

function streamName(name: string | undefined): 'stdout' | 'stderr' | undefined {
  if (name === undefined || name === 'stdout' || name === 'stderr') return name;
  throw new UsageError(`unknown stream '${name}' (stdout or stderr)`);
}

function readRecord(file: string): RunRecordView {
  return decodeRecord(readFile(file), file);
}

function isObjectFile(file: string | undefined): boolean {
  return file !== undefined && file !== '-' && /\.o$/.test(file);
}

function nonNegativeInt(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text) || !Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`${what} must be an integer from 0 to 2^32-1`);
  return n;
}

/** The options that shape an object before load, as a loader would: maps and kconfig. */
const OBJECT_OPTIONS = {
  map: { type: 'string', multiple: true }, 'map-entry': { type: 'string', multiple: true },
  'map-entries': { type: 'string', multiple: true }, kconfig: { type: 'string', multiple: true }, 'kconfig-file': { type: 'string' },
  kernel: { type: 'string' },
  btf: { type: 'string' },
  task: { type: 'string' },
} as const;

interface ObjectOptionValues {
  map?: string[];
  'map-entry'?: string[];
  'map-entries'?: string[];
  kconfig?: string[];
  'kconfig-file'?: string;
  kernel?: string;
  btf?: string;
  task?: string;
}

const TASK_FIELDS = ['pid', 'tgid', 'uid', 'gid', 'ppid', 'comm'] as const;

/** --task pid=N,tgid=N,uid=N,gid=N,ppid=N,comm=TEXT: the simulated current task (any subset). */
function taskOption(text: string | undefined): TaskOptions | undefined {
  if (text === undefined) return undefined;
  const task: Record<string, number | string> = {};
  for (const part of text.split(',')) {
    const m = /^([a-z]+)=(.*)$/.exec(part);
    const field = m && TASK_FIELDS.find((f) => f === m[1]);
    if (!m || !field) throw new UsageError(`--task ${text}: expected FIELD=VALUE,... (FIELD: ${TASK_FIELDS.join(', ')})`);
    if (field === 'comm') {
      if (!/^[\x20-\x7e]{0,15}$/.test(m[2])) throw new UsageError(`--task ${text}: comm must be at most 15 printable ASCII characters`);
      task.comm = m[2];
    } else {
      if (!/^\d+$/.test(m[2]) || Number(m[2]) > 0xffffffff) throw new UsageError(`--task ${text}: ${field} must be an integer in 0..4294967295`);
      task[field] = Number(m[2]);
    }
  }
  return task as TaskOptions;
}

const MAP_ATTRIBUTES: Readonly<Record<string, keyof MapAttributes>> = {
  max_entries: 'maxEntries', key_size: 'keySize', value_size: 'valueSize', map_flags: 'flags', numa_node: 'numaNode', map_extra: 'mapExtra',
};

/**
 * Applies --map NAME.FIELD=N (libbpf's bpf_map__set_*), --map-entry NAME:KEYHEX=VALUEHEX and
 * --map-entries NAME=FILE.json (elements written after creation) to an opened object, in the
 * order given; returns the --kconfig NAME=VALUE values for load.
 */
function applyObjectOptions(obj: BpfObject, values: ObjectOptionValues): Pick<LoadOptions, 'kconfig' | 'kconfigText' | 'kernel' | 'btf' | 'task'> {
  const kernel = values.kernel;
  if (kernel !== undefined && !(KERNEL_VERSIONS as readonly string[]).includes(kernel)) {
    throw new UsageError(`--kernel must be one of ${KERNEL_VERSIONS.join(', ')}`);
  }
  const task = taskOption(values.task);
  for (const text of values.map ?? []) {
    const m = /^([^.=]+)\.([a-z_]+)=(.+)$/.exec(text);
    if (!m) throw new UsageError(`--map ${text}: expected NAME.FIELD=VALUE (FIELD: ${Object.keys(MAP_ATTRIBUTES).join(', ')})`);
    const field = MAP_ATTRIBUTES[m[2]];
    if (field === undefined) throw new UsageError(`--map ${text}: unknown field '${m[2]}' (${Object.keys(MAP_ATTRIBUTES).join(', ')})`);
    const n = integerText(m[3], `--map ${text}`);
    obj.setMapAttributes(m[1], field === 'mapExtra' ? { mapExtra: n } : { [field]: Number(n) });
  }
  for (const text of values['map-entry'] ?? []) {
    const m = /^([^:=]+):([0-9a-fA-F\s]*)=([0-9a-fA-F\s]*)$/.exec(text);
    if (!m) throw new UsageError(`--map-entry ${text}: expected NAME:KEYHEX=VALUEHEX`);
    obj.addMapEntries(m[1], [[parseMemHex(m[2]), parseMemHex(m[3])]]);
  }
  for (const text of values['map-entries'] ?? []) {
    const at = text.indexOf('=');
    if (at <= 0) throw new UsageError(`--map-entries ${text}: expected NAME=FILE.json`);
    const name = text.slice(0, at), file = text.slice(at + 1);
    const def = obj.mapDefinition(name);
    obj.addMapEntries(name, mapEntriesJson(file, readFile(file).toString('utf8'), def.keySize, def.valueSize));
  }
  const kconfig: Record<string, string> = {};
  for (const text of values.kconfig ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
    if (!m) throw new UsageError(`--kconfig ${text}: expected NAME=VALUE (as a .config line: y, n, m, an integer, "text")`);
    kconfig[m[1]] = m[2]; // libbpf's rules for the extern's type apply at load
  }
  const file = values['kconfig-file'];
  return {
    kconfig, kconfigText: file === undefined ? undefined : { name: file, content: readFile(file).toString('utf8') },
    kernel: kernel as KernelVersion | undefined, btf: values.btf, task,
  };
}

/** A duration: an integer with a unit (ns, us, ms, s; ns without one), in nanoseconds. */
function durationNs(text: string): bigint {
  const m = /^(\d+)(ns|us|ms|s)?$/.exec(text);
  if (!m) throw new UsageError(`--advance-time ${text}: expected a duration such as 500us, 20ms or 1s`);
  return BigInt(m[1]) * { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n }[(m[2] ?? 'ns') as 'ns' | 'us' | 'ms' | 's'];
}

/** A decimal or 0x-hex integer, possibly negative. */
function integerText(text: string, what: string): bigint {
  if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw new UsageError(`${what}: '${text}' is not an integer`);
  return text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
}

/**
 * A --map-entries file: a JSON array of {"key": K, "value": V}, each a hex string of the bytes
 * or a number (an unsigned integer written little-endian over the whole size, as a C integer
 * on x86). A per-CPU map's value may be one value for all CPUs or every CPU's.
 */
function mapEntriesJson(file: string, text: string, keySize: number, valueSize: number): MapEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FileError(`${file}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new FileError(`${file}: expected an array of {"key": ..., "value": ...}`);
  const bytes = (v: unknown, size: number, where: string): Uint8Array => {
    if (typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v.replace(/\s+/g, ''))) return parseMemHex(v);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && size <= 8 && v < 2 ** (8 * size)) {
      const out = new Uint8Array(size);
      for (let k = 0, n = BigInt(v); k < size; k++, n >>= 8n) out[k] = Number(n & 0xffn);
      return out;
    }
    throw new FileError(`${file}: ${where}: expected hex bytes or an unsigned integer that fits ${size} bytes, got ${JSON.stringify(v)}`);
  };
  return parsed.map((e: unknown, k): MapEntry => {
    if (typeof e !== 'object' || e === null || !('key' in e) || !('value' in e)) throw new FileError(`${file}: element ${k}: expected {"key": ..., "value": ...}`);
    return [bytes(e.key, keySize, `element ${k} key`), bytes(e.value, valueSize, `element ${k} value`)];
  });
}

/** --ctx-in: JSON fields by name (`{...}`), a file when one exists by that name, else hex bytes. */
function ctxInput(text: string, type: string): Uint8Array {
  if (text.trimStart().startsWith('{')) {
    const layout = ctxLayout(type);
    if (layout === undefined) throw new UsageError(`--ctx-in: a ${type} program's context has no named fields; give its bytes (FILE or HEX)`);
    let fields: unknown;
    try { fields = JSON.parse(text); } catch (e) { throw new UsageError(`--ctx-in: not valid JSON (${(e as Error).message})`); }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new UsageError('--ctx-in: JSON must be an object of fields');
    try { return ctxFromFields(layout, fields as Record<string, unknown>); } catch (e) { throw new UsageError(`--ctx-in: ${(e as Error).message}`); }
  }
  if (existsSync(text)) return readFile(text);
  return parseMemHex(text);
}

function readCaptureFile(file: string): Capture {
  const bytes = readFile(file);
  try {
    return readCapture(bytes);
  } catch (e) {
    if (e instanceof PcapError) throw new FileError(`${file}: ${e.message}`);
    throw e;
  }
}

/** --fib: the simulated FIB of bpf_fib_lookup (spec program-types §4.7), a JSON file; a bad one names the file and the entry. */
function readFibFile(file: string): Fib {
  const text = readFile(file).toString('utf8');
  let config: unknown;
  try { config = JSON.parse(text); } catch (e) { throw new FileError(`${file}: not valid JSON (${(e as Error).message})`); }
  try {
    return Fib.parse(config);
  } catch (e) {
    if (e instanceof FibConfigError) throw new FileError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The text of one test run: retval and verdict, errno, the outputs. */
function formatTestRun(name: string, type: string, r: TestRunResult, perf: readonly PerfMapRecords[]): string {
  const lines = [`${name} (${type}): retval ${r.retval} (${verdictName(type, r.retval)}), ${r.instructions} instructions, duration ${r.duration} ns`];
  if (r.errno !== 0) lines.push(`errno ${errnoName(r.errno)}: an output did not fit (data_size_out ${r.dataSize}, ctx_size_out ${r.ctxSize}); what fit was copied`);
  if (r.data !== undefined) lines.push(`data_out (${r.dataSize} bytes):`, ...hexDump(r.data));
  if (r.ctx !== undefined) {
    const layout = ctxLayout(type);
    lines.push(`ctx_out (${r.ctxSize} bytes):`);
    if (layout) for (const [field, v] of Object.entries(ctxToFields(layout, r.ctx))) lines.push(`  ${field} = ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`);
    else lines.push(...hexDump(r.ctx));
  }
  if (r.redirect) lines.push(`redirect: ${describeRedirect(r.redirect)} (recorded; a test run never sends)`);
  for (const c of r.clones ?? []) lines.push(`clone ${c.flags & 1 ? 'received' : 'sent'} on ifindex ${c.ifindex} (${c.data.length} bytes):`, ...hexDump(c.data));
  lines.push(...perfLines(perf));
  return lines.join('\n');
}

function testRunJson(name: string, type: string, r: TestRunResult, perf: readonly PerfMapRecords[]): Record<string, unknown> {
  const layout = ctxLayout(type);
  return {
    program: name, type, retval: r.retval, verdict: verdictName(type, r.retval), errno: r.errno === 0 ? 0 : errnoName(r.errno),
    instructions: r.instructions, duration: r.duration,
    data_size_out: r.dataSize, data_out: r.data && Buffer.from(r.data).toString('hex'),
    ctx_size_out: r.ctxSize, ctx_out: r.ctx && Buffer.from(r.ctx).toString('hex'),
    ...(r.ctx && layout && { ctx_fields: ctxToFields(layout, r.ctx) }),
    ...(r.redirect && { redirect: { ...r.redirect, nexthop: r.redirect.nexthop && { family: r.redirect.nexthop.family, address: Buffer.from(r.redirect.nexthop.address).toString('hex') } } }),
    ...(r.clones?.length && { clones: r.clones.map((c) => ({ ifindex: c.ifindex, flags: c.flags, data: Buffer.from(c.data).toString('hex') })) }),
    ...(perf.length > 0 && { perf: perfReport(perf) }),
  };
}

/** "bpf_redirect_map to devmap key 3, flags 0x2": what a redirect helper recorded. */
function describeRedirect(r: RedirectRecord): string {
  const target = r.map !== undefined ? `map ${r.map} key ${r.key}` : `ifindex ${r.ifindex}`;
  const nh = r.nexthop ? `, next hop ${r.nexthop.family === AF_INET6 ? 'inet6' : 'inet'} ${Buffer.from(r.nexthop.address).toString('hex')}` : '';
  return `${r.helper} to ${target}, flags 0x${r.flags.toString(16)}${nh}`;
}

function hexDump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = Array.from(bytes.subarray(at, at + 16), (b) => b.toString(16).padStart(2, '0'));
    lines.push(`  ${at.toString(16).padStart(4, '0')}  ${row.join(' ')}`);
  }
  return lines;
}

/**
 * Runs a program over every packet of a capture: counts per verdict (and per error), each
 * packet's line with `verbose`, a progress line on stderr for long captures, the output
 * packets for --pcap-out.
 */
/**
 * Runs a program over every packet of a capture. The perf rings are read after each packet, as
 * a reader polling between packets would, so a long capture never fills them.
 */
function runCapture(program: Program, capture: Capture, input: RunOptions, how: { verbose: boolean; json: boolean },
  drainPerf: () => PerfMapRecords[]) {
  const type = program.spec.type.name;
  let perfRecords = 0;
  const counts = new Map<string, number>();
  const perPacket: Array<Record<string, unknown>> = [];
  const outputs: Array<{ data: Uint8Array; timestampNs: bigint }> = [];
  const firstError = new Map<string, string>();
  let errors = 0;
  let lastProgress = performance.now();
  const total = capture.packets.length;
  const progress = total > 1000 && process.stderr.isTTY;
  for (const packet of capture.packets) {
    let verdict: string;
    let row: Record<string, unknown>;
    try {
      const r = program.testRun({ ...input, data: packet.data });
      verdict = r.errno === 0 ? verdictName(type, r.retval) : `${verdictName(type, r.retval)} (${errnoName(r.errno)})`;
      if (r.data !== undefined) outputs.push({ data: r.data, timestampNs: packet.timestampNs });
      row = { packet: packet.index, length: packet.data.length, retval: r.retval, verdict };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      errors++;
      verdict = e instanceof TestRunError ? `refused (${errnoName(e.errno)})` : `error (${e.kind})`;
      if (!firstError.has(verdict)) firstError.set(verdict, `packet ${packet.index}: ${e.message}`);
      row = { packet: packet.index, length: packet.data.length, verdict, error: e.message };
    }
    const perf = drainPerf().filter((m) => m.records.length > 0);
    const n = perf.reduce((sum, m) => sum + m.records.length, 0);
    perfRecords += n;
    if (how.verbose) perPacket.push(n === 0 ? row : { ...row, ...(how.json ? { perf: perfReport(perf) } : { perfRecords: n }) });
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
    if (progress && performance.now() - lastProgress > 250) {
      lastProgress = performance.now();
      process.stderr.write(`\rtest-run: ${packet.index + 1}/${total} packets`);
    }
  }
  if (progress) process.stderr.write(`\rtest-run: ${total}/${total} packets\n`);
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  const text = how.json
    ? JSON.stringify({ program: program.name, type, packets: total, verdicts: Object.fromEntries(rows),
      errors: Object.fromEntries(firstError), ...(perfRecords > 0 && { perf_records: perfRecords }), ...(how.verbose && { perPacket }) }, null, 2)
    : [
      ...(how.verbose ? perPacket.map((p) => `#${p.packet} ${p.length} bytes: ${p.verdict}${p.perfRecords ? `, ${p.perfRecords} perf records` : ''}`
        + `${p.error ? ` — ${p.error}` : ''}`) : []),
      `${program.name} (${type}): ${total} packets${perfRecords > 0 ? `, ${perfRecords} perf records` : ''}`,
      ...rows.map(([v, n]) => `  ${String(n).padStart(8)}  ${v}`),
      ...[...firstError].map(([verdict, m]) => `first ${verdict}: ${m}`),
    ].join('\n');
  return { text, outputs, errors };
}

/** What `run` says for an object with no SEC("syscall") programs: its programs and how to run each. */
function howToRun(file: string, programs: ReadonlyArray<{ name: string; type: string; section: string }>): string {
  const example: Record<string, string> = {
    xdp: '--data-hex <Ethernet frame>', sched_cls: '--data-hex <Ethernet frame>', sched_act: '--data-hex <Ethernet frame>',
    socket_filter: '--data-hex <Ethernet frame>', cgroup_skb: '--data-hex <Ethernet frame>', flow_dissector: '--data-hex <Ethernet frame>',
    raw_tracepoint: '--ctx-in <u64 arguments as hex>',
  };
  const lines = [`${file} has no SEC("syscall") programs, which is what 'run' runs by default. Its programs:`];
  for (const p of programs) {
    const how = example[p.type] !== undefined ? `bpfrun test-run ${file} --prog ${p.name} ${example[p.type]}`
      : `bpfrun run ${file} --prog ${p.name} [--ctx-hex HEX]`;
    lines.push(`  ${p.name} (${p.section}, ${p.type}): ${how}`);
  }
  lines.push('(--pcap FILE runs a packet program over a capture.)');
  return lines.join('\n');
}

const commands: Record<string, (args: string[]) => void | Promise<void>> = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: {
        prog: { type: 'string', multiple: true }, engine: { type: 'string' },
        'ctx-hex': { type: 'string' }, 'data-hex': { type: 'string' }, json: { type: 'boolean' }, 'arena-globals': { type: 'string' },
        kfuncs: { type: 'string', multiple: true }, 'strict-kfuncs': { type: 'boolean' },
        record: { type: 'string' }, budget: { type: 'string' }, timeout: { type: 'string' }, 'advance-time': { type: 'string' }, ...OBJECT_OPTIONS,
      },
    });
    for (const file of values.kfuncs ?? []) checkInputFile(file);
    const kfuncs = (await Promise.all((values.kfuncs ?? []).map(loadKfuncModule))).flat();
    const arenaGlobals = values['arena-globals']; // default: the kernel profile's (end on 7.2, start on 6.18)
    if (arenaGlobals !== undefined && arenaGlobals !== 'start' && arenaGlobals !== 'end') throw new UsageError('--arena-globals must be start or end');
    const limits = runLimits(values);
    const advance = values['advance-time'] === undefined ? undefined : durationNs(values['advance-time']);
    if (!isObjectFile(positionals[0])) throw new UsageError('run needs an object file (FILE.o)');
    const engine = engineOf(values.engine);
    const opened = autoloadNamed(openObjectFile(positionals[0]!), values.prog);
    const loaded = opened.load({ arenaGlobals, engine, kfuncs, ...applyObjectOptions(opened, values), strictKfuncContract: values['strict-kfuncs'] });
    const ctx = values['ctx-hex'] === undefined ? undefined : parseMemHex(values['ctx-hex']);
    const data = values['data-hex'] === undefined ? undefined : parseMemHex(values['data-hex']);
    if ((values.prog ?? []).length === 0 && !loaded.programs.some((p) => p.spec.type.name === 'syscall' && p.spec.autoload)) {
      // Nothing `run` runs by default: say what there is and how to run it.
      console.log(howToRun(positionals[0]!, loaded.programs.map((p) => ({ name: p.name, type: p.spec.type.name, section: p.section }))));
      process.exitCode = 2;
      return;
    }
    const runs = runPrograms(loaded, values.prog ?? [], engine, { ctx, data, ...limits }, advance);
    console.log(values.json ? runReportJson(runs) : formatRunReport(runs));
    if (values.record !== undefined) writeFile(values.record, encodeRecord(positionals[0]!, runs));
    if (runs.programs.some((p) => p.error !== undefined)) process.exitCode = 1;
  },
  async 'test-run'(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: {
        prog: { type: 'string' }, engine: { type: 'string' }, 'data-in': { type: 'string' }, 'data-hex': { type: 'string' },
        'ctx-in': { type: 'string' }, repeat: { type: 'string' }, 'data-size-out': { type: 'string' },
        'ctx-size-out': { type: 'string' }, flags: { type: 'string' }, cpu: { type: 'string' }, 'data-out': { type: 'string' },
        json: { type: 'boolean' }, pcap: { type: 'string' }, 'pcap-out': { type: 'string' }, verbose: { type: 'boolean' },
        budget: { type: 'string' }, timeout: { type: 'string' }, kfuncs: { type: 'string', multiple: true },
        fib: { type: 'string' }, ...OBJECT_OPTIONS,
      },
    });
    if (!isObjectFile(positionals[0]) || positionals.length !== 1) throw new UsageError('test-run needs one object file (FILE.o)');
    if (values.prog === undefined) throw new UsageError('test-run needs --prog NAME');
    if (values['data-in'] !== undefined && values['data-hex'] !== undefined) throw new UsageError('give --data-in or --data-hex, not both');
    if (values.pcap !== undefined && (values['data-in'] ?? values['data-hex']) !== undefined) throw new UsageError('--pcap replaces --data-in / --data-hex');
    if (values['pcap-out'] !== undefined && values.pcap === undefined) throw new UsageError('--pcap-out needs --pcap');
    for (const file of values.kfuncs ?? []) checkInputFile(file);
    const kfuncs = (await Promise.all((values.kfuncs ?? []).map(loadKfuncModule))).flat();
    const engine = engineOf(values.engine);
    const fib = values.fib === undefined ? undefined : readFibFile(values.fib);
    const opened = autoloadNamed(openObjectFile(positionals[0]!), values.prog);
    const loaded = opened.load({ engine, kfuncs, ...applyObjectOptions(opened, values), fib });
    const program = loaded.program(values.prog);
    const type = program.spec.type.name;
    const input: RunOptions = {
      engine, ...runLimits(values),
      data: values['data-in'] !== undefined ? readFile(values['data-in']) : values['data-hex'] !== undefined ? parseMemHex(values['data-hex']) : undefined,
      ctx: values['ctx-in'] === undefined ? undefined : ctxInput(values['ctx-in'], type),
      repeat: nonNegativeInt(values.repeat, '--repeat'),
      dataSizeOut: nonNegativeInt(values['data-size-out'], '--data-size-out'),
      ctxSizeOut: nonNegativeInt(values['ctx-size-out'], '--ctx-size-out'),
      flags: nonNegativeInt(values.flags, '--flags'),
      cpu: nonNegativeInt(values.cpu, '--cpu'),
    };
    if (values.pcap !== undefined) {
      const capture = readCaptureFile(values.pcap);
      const summary = runCapture(program, capture, input, { verbose: values.verbose ?? false, json: values.json ?? false },
        () => drainPerfMaps(loaded));
      if (values['pcap-out'] !== undefined) writeFile(values['pcap-out'], writePcap(summary.outputs, { linkType: capture.linkType < 0 ? 1 : capture.linkType }));
      console.log(summary.text);
      if (summary.errors > 0) process.exitCode = 1;
      return;
    }
    const result = program.testRun(input);
    const perf = drainPerfMaps(loaded);
    if (values['data-out'] !== undefined && result.data !== undefined) writeFile(values['data-out'], result.data);
    console.log(values.json ? JSON.stringify(testRunJson(program.name, type, result, perf), null, 2) : formatTestRun(program.name, type, result, perf));
    if (result.errno !== 0) process.exitCode = 1;
  },
  inspect(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { stream: { type: 'string' }, faults: { type: 'boolean' }, prog: { type: 'string' }, json: { type: 'boolean' } },
    });
    if (positionals.length !== 1) throw new UsageError('inspect needs one run record (FILE.pb)');
    const filter = { stream: streamName(values.stream), faults: values.faults, prog: values.prog };
    const record = readRecord(positionals[0]!);
    console.log(values.json ? recordJson(record, filter) : formatInspect(record, filter));
  },
  tracelog(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { prog: { type: 'string' } } });
    if (positionals.length !== 2) throw new UsageError('tracelog needs a stream and a run record: tracelog stdout|stderr FILE.pb');
    process.stdout.write(tracelog(readRecord(positionals[1]!), streamName(positionals[0])!, values.prog));
  },
  info(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (!isObjectFile(positionals[0])) throw new UsageError('info needs an object file (FILE.o)');
    console.log(describeObject(openObjectFile(positionals[0]!).spec));
  },
  exec(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { mem: { type: 'string' }, engine: { type: 'string' }, budget: { type: 'string' }, timeout: { type: 'string' } },
    });
    const mem = parseMemHex(values.mem);
    const result = runConformanceProgram(loadProgram(positionals[0]), mem, engineOf(values.engine), runLimits(values));
    console.log(`r0 = 0x${result.r0.toString(16)} (${BigInt.asIntN(64, result.r0)})`);
    console.log(`${result.instructions} instructions`);
  },
  'run-raw'(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: {
        mem: { type: 'string' }, engine: { type: 'string' }, repeat: { type: 'string' },
        budget: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' },
      },
    });
    if (positionals.length !== 1) throw new UsageError('run-raw needs one bytecode file');
    if (values.mem === undefined) throw new UsageError('run-raw needs --mem FILE (the input memory)');
    const repeat = positiveInt(values.repeat, 1, '--repeat');
    const limits = runLimits(values);
    const engine = engineOf(values.engine);
    const insns = decode(readFile(positionals[0]));
    const mem = new Uint8Array(readFile(values.mem));
    const vm = prepareConformanceProgram(insns, mem, engine);
    const times: number[] = [];
    let result = { r0: 0n, instructions: 0 };
    for (let i = 0; i < repeat; i++) {
      const t0 = process.hrtime.bigint();
      result = vm.run(limits);
      times.push(Number(process.hrtime.bigint() - t0));
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    if (values.json) {
      console.log(JSON.stringify({
        engine, r0: result.r0.toString(), r0Hex: `0x${result.r0.toString(16)}`, instructions: result.instructions,
        repeat, medianNs: Math.round(median),
      }, null, 2));
      return;
    }
    console.log(`r0 = 0x${result.r0.toString(16)} (${BigInt.asIntN(64, result.r0)})`);
    console.log(`${result.instructions} instructions`);
    console.log(`median ${(median / 1e6).toFixed(3)} ms per run over ${repeat} run${repeat === 1 ? '' : 's'} (${engine}; ${(median / Math.max(1, result.instructions)).toFixed(2)} ns/insn)`);
  },
  asm(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    for (const line of toHexLines(assemble(readInput(positionals[0])))) console.log(line);
  },
  disasm(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, options: { 'emit-js': { type: 'boolean' }, prog: { type: 'string', multiple: true }, kernel: { type: 'string' } },
    });
    const kernel = values.kernel;
    if (kernel !== undefined && !(KERNEL_VERSIONS as readonly string[]).includes(kernel)) throw new UsageError(`--kernel must be one of ${KERNEL_VERSIONS.join(', ')}`);
    if (values['emit-js']) {
      // What the JIT runs: the generated JavaScript of each program, and its exception table.
      const programs = isObjectFile(positionals[0])
        ? autoloadNamed(openObjectFile(positionals[0]!), values.prog).load({ engine: JS_EMITTING_ENGINE, kernel: kernel as KernelVersion | undefined }).programs.filter((p) => !values.prog || values.prog.includes(p.name))
          .map((p) => ({ name: p.name, engine: p.engine(JS_EMITTING_ENGINE) }))
        : [{ name: 'program', engine: createEngine(JS_EMITTING_ENGINE, decode(parseHexBytecode(readInput(positionals[0]))), emptyEnv()) }];
      for (const { name, engine } of programs) console.log(engine.listing?.(name));
      return;
    }
    if (isObjectFile(positionals[0])) {
      console.log(disassembleObject(openObjectFile(positionals[0]!).spec));
      return;
    }
    for (const line of disassemble(decode(parseHexBytecode(readInput(positionals[0]))))) console.log(line);
  },
  'conformance-plugin'(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { engine: { type: 'string' } } });
    const insns = decode(parseHexBytecode(readInput('-')));
    const { r0 } = runConformanceProgram(insns, parseMemHex(positionals[0]), engineOf(values.engine));
    console.log(r0.toString(16));
  },
  sched(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, options: {
        cpus: { type: 'string' }, nodes: { type: 'string' }, llcs: { type: 'string' }, smt: { type: 'string' },
        workload: { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' }, engine: { type: 'string' },
        hz: { type: 'string' }, ops: { type: 'string' }, rodata: { type: 'string', multiple: true }, 'ops-data': { type: 'string', multiple: true },
        resize: { type: 'string', multiple: true }, trace: { type: 'string' }, json: { type: 'boolean' }, 'op-trace': { type: 'string' },
        progress: { type: 'boolean' }, 'self-check': { type: 'boolean' },
      },
    });
    const file = positionals[0];
    if (file === undefined) throw new UsageError('sched needs a scheduler object (FILE.o)');
    const int = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}`);
      return n;
    };
    const assignments = (name: string, list: string[] | undefined): Record<string, bigint> => Object.fromEntries((list ?? []).map((a) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?(?:0x[0-9a-fA-F]+|\d+)|true|false)$/.exec(a);
      if (!m) throw new UsageError(`--${name} ${a}: expected NAME=VALUE with an integer (or true/false) value`);
      return [m[1], m[2] === 'true' ? 1n : m[2] === 'false' ? 0n : BigInt(m[2])];
    }));
    let durationNs = 1e9;
    try {
      if (values.duration !== undefined) durationNs = parseDuration(values.duration, '--duration');
    } catch (e) { throw new UsageError((e as Error).message); }
    const cpus = int('cpus', values.cpus, 1, 4096) ?? 4;
    const options = {
      cpus, engine: engineOf(values.engine), seed: int('seed', values.seed, 0, 0xffffffff), hz: int('hz', values.hz, 1, 10000),
      topology: { nodes: int('nodes', values.nodes, 1, 64), llcsPerNode: int('llcs', values.llcs, 1, 256), threadsPerCore: int('smt', values.smt, 1, 8) },
      ops: values.ops, rodata: assignments('rodata', values.rodata), opsData: assignments('ops-data', values['ops-data']),
      resize: Object.fromEntries(Object.entries(assignments('resize', values.resize)).map(([k, v]) => [k, Number(v)])),
    };
    let workload;
    try {
      const w = values.workload ?? 'mixed';
      workload = (PRESETS as readonly string[]).includes(w) ? presetWorkload(w, cpus) : parseWorkload(parseJsonFile(w), cpus, basename(w));
    } catch (e) {
      if (e instanceof WorkloadError) throw new UsageError(e.message);
      throw e;
    }
    let prepared;
    try {
      prepared = prepareScheduler(readFile(file), { ...options, workload }, basename(file));
    } catch (e) {
      if (e instanceof TopologyError) throw new UsageError(e.message);
      throw e;
    }
    const { loaded, ref } = loadScheduler(prepared, options);
    const tty = process.stderr.isTTY || values.progress;
    const host = attachScheduler(prepared, loaded, ref, {
      ...options, durationNs, opTrace: values['op-trace'] !== undefined, selfCheck: values['self-check'],
      progressEveryNs: tty ? Math.max(1, Math.floor(durationNs / 20)) : undefined,
      onProgress: (t) => process.stderr.write(`sched: ${(t / 1e6).toFixed(0)} of ${(durationNs / 1e6).toFixed(0)} ms simulated${values.progress ? '\n' : '\r'}`),
    });
    const t0 = performance.now();
    const result = host.run();
    if (tty && !values.progress) process.stderr.write('\n');
    const wall = (performance.now() - t0) / 1e3;
    // --trace FILE.json: Chrome trace events; any other name: ftrace text (both open in Perfetto).
    if (values.trace !== undefined) writeFile(values.trace, new TextEncoder().encode(values.trace.endsWith('.json') ? chromeTrace(result) : systrace(result)));
    if (values['op-trace'] !== undefined) {
      writeFile(values['op-trace'], new TextEncoder().encode(result.opTrace.map((o) => `${o.t} cpu${o.cpu} ${o.op}(${o.args}) = ${o.ret}`).join('\n') + '\n'));
    }
    const stats = schedulerCounters(loaded);
    if (values.json) {
      console.log(JSON.stringify({ ...result, slices: undefined, waits: undefined, wakeups: undefined, opTrace: undefined, counters: stats }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
      return;
    }
    const header = `scheduler ${result.name} (${result.cidForm ? 'cid' : 'cpu'} form, ${basename(file)}) on ${prepared.machine.describe()}; `
      + `workload ${prepared.workload.name}; ${(result.durationNs / 1e6).toFixed(3)} ms simulated in ${wall.toFixed(2)} s (${options.engine})`;
    console.log(formatSchedReport(result, header, stats));
  },
  'race-lab'(args) {
    const { values } = parseArgs({ args, options: { variant: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' } } });
    const variant = values.variant ?? 'both';
    if (variant !== 'pre-fix' && variant !== 'fixed' && variant !== 'both') throw new UsageError('--variant must be pre-fix, fixed or both');
    const arch = values.arch ?? 'both';
    if (arch !== 'x86_64' && arch !== 'arm64' && arch !== 'both') throw new UsageError('--arch must be x86_64, arm64 or both');
    const results = raceLab(variant === 'both' ? ['pre-fix', 'fixed'] : [variant], {}, arch === 'both' ? ['x86_64', 'arm64'] : [arch]);
    console.log(values.json ? JSON.stringify(results.map(explorationJson), null, 2) : formatRaceLab(results));
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  const run = commands[command];
  try {
    if (!run) throw new UsageError(`unknown command '${command}'`);
    await run(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof BpfError) {
      console.error([`bpfrun: ${e.message}`, ...causeLines(e).map((l) => '  ' + l)].join('\n'));
      return 1;
    }
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`bpfrun: ${e.message}\n\n${HELP}`);
      return 2;
    }
    if (e instanceof FileError) {
      console.error(`bpfrun: ${e.message}`);
      return 1;
    }
    if (isSystemError(e)) {
      // A file error from a path read elsewhere (a kfunc module's imports): still one line.
      console.error(`bpfrun: ${e.path === undefined ? '' : `${e.path}: `}${errnoText(e)}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
