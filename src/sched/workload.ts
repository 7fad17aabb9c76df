/**
 * Workloads for the sched_ext host (sched-ext.md §7.3): tasks with a name, a nice value, an
 * affinity and a behaviour script of CPU bursts and sleeps, written as JSON or taken from the
 * built-in presets. Parsed into a frozen WorkloadSpec; a bad file is a WorkloadError naming the
 * task and the field.
 */

/** One step of a task's script. */
export type Step =
  | { readonly run: number }      // ns of CPU time
  | { readonly sleep: number }    // ns asleep
  | { readonly yield: true }
  | { readonly nice: number }
  | { readonly exit: true }
  /** A behaviour of the host's (scx_userland's user-space scheduler loop), run at no CPU cost. */
  | { readonly call: string };

export interface TaskSpec {
  readonly name: string;
  /** How many identical tasks (comm `name`, or `name-K` when more than one). */
  readonly count: number;
  readonly nice: number;
  /** Allowed CPUs; undefined: all. */
  readonly cpus?: readonly number[];
  /** A per-CPU kernel thread (PF_KTHREAD), pinned to `cpus`. */
  readonly kthread: boolean;
  /** When the task first wakes (ns after the scheduler is enabled). */
  readonly start: number;
  readonly script: readonly Step[];
  /** Run the script again from the start when it ends (default true); else the task exits. */
  readonly loop: boolean;
  /** The cgroup the task is in: a path of WorkloadSpec.cgroups, or "/" (the root, default). */
  readonly cgroup: string;
}

/** A cgroup (cgroup v2): its path below the root and its cpu.weight. */
export interface CgroupSpec {
  readonly path: string;
  /** cpu.weight, 1..10000 (default 100). */
  readonly weight: number;
}

/** A CPU going offline or coming back online at a time (sched-ext.md §2.3 I). */
export interface HotplugSpec {
  readonly at: number;
  readonly cpu: number;
  readonly online: boolean;
}

export interface WorkloadSpec {
  readonly name: string;
  readonly tasks: readonly TaskSpec[];
  readonly hotplug: readonly HotplugSpec[];
  /** Cgroups below the root, each after its parent. */
  readonly cgroups: readonly CgroupSpec[];
}

export class WorkloadError extends Error {
  constructor(where: string, message: string) {
    super(`workload ${where}: ${message}`);
    this.name = 'WorkloadError';
  }
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** A duration: a number of ns, or a string like "5ms", "1.5s", "200us". */
export function parseDuration(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v);
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$/.exec(v);
    if (m) return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ns']);
  }
  throw new WorkloadError(where, `expected a duration (a number of ns, or "5ms", "2s", "100us"), got ${JSON.stringify(v)}`);
}

function parseStep(v: unknown, where: string): Step {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WorkloadError(where, 'a step is an object such as {"run": "5ms"}');
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new WorkloadError(where, `a step has exactly one of run, sleep, yield, nice, exit (got ${keys.join(', ') || 'none'})`);
  const [key] = keys;
  const value = (v as Record<string, unknown>)[key];
  switch (key) {
    case 'run': {
      const ns = parseDuration(value, `${where}.run`);
      if (ns === 0) throw new WorkloadError(`${where}.run`, 'a CPU burst must be longer than 0');
      return { run: ns };
    }
    case 'sleep': return { sleep: parseDuration(value, `${where}.sleep`) };
    case 'yield': return { yield: true };
    case 'exit': return { exit: true };
    case 'nice': return { nice: parseNice(value, `${where}.nice`) };
    default: throw new WorkloadError(where, `unknown step '${key}' (have: run, sleep, yield, nice, exit)`);
  }
}

function parseNice(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -20 || v > 19) throw new WorkloadError(where, `nice is an integer in -20..19 (got ${JSON.stringify(v)})`);
  return v;
}

/** Parses a workload (already JSON-decoded); `nrCpus` checks the affinities. */
export function parseWorkload(json: unknown, nrCpus: number, name = 'workload'): WorkloadSpec {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { tasks?: unknown }).tasks)) {
    throw new WorkloadError(name, 'expected an object with a "tasks" array');
  }
  const raw = (json as { tasks: unknown[]; name?: unknown; cgroups?: unknown; hotplug?: unknown });
  for (const k of Object.keys(raw)) {
    if (!['name', 'tasks', 'cgroups', 'hotplug'].includes(k)) throw new WorkloadError(name, `unknown field '${k}' (have: name, tasks, cgroups, hotplug)`);
  }
  const cgroups = parseCgroups(raw.cgroups);
  const hotplug = parseHotplug(raw.hotplug, nrCpus);
  const tasks = raw.tasks.map((t, i): TaskSpec => {
    const where = `tasks[${i}]`;
    if (typeof t !== 'object' || t === null) throw new WorkloadError(where, 'a task is an object');
    const o = t as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['name', 'count', 'nice', 'cpus', 'kthread', 'start', 'script', 'loop', 'cgroup'].includes(k)) {
        throw new WorkloadError(where, `unknown field '${k}' (have: name, count, nice, cpus, kthread, start, script, loop, cgroup)`);
      }
    }
    const taskName = o.name === undefined ? `task${i}` : o.name;
    if (typeof taskName !== 'string' || !/^[\x21-\x7e]{1,15}$/.test(taskName)) throw new WorkloadError(`${where}.name`, 'a name is 1..15 printable characters without spaces');
    const count = o.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100_000) throw new WorkloadError(`${where}.count`, 'count is an integer in 1..100000');
    let cpus: number[] | undefined;
    if (o.cpus !== undefined) {
      if (!Array.isArray(o.cpus) || o.cpus.length === 0 || !o.cpus.every((c) => Number.isInteger(c) && c >= 0 && c < nrCpus)) {
        throw new WorkloadError(`${where}.cpus`, `cpus is a non-empty list of CPU numbers in 0..${nrCpus - 1}`);
      }
      cpus = [...new Set(o.cpus as number[])].sort((a, b) => a - b);
    }
    const kthread = o.kthread ?? false;
    if (typeof kthread !== 'boolean') throw new WorkloadError(`${where}.kthread`, 'kthread is true or false');
    if (!Array.isArray(o.script) || o.script.length === 0) throw new WorkloadError(`${where}.script`, 'script is a non-empty list of steps');
    const script = o.script.map((s, k) => parseStep(s, `${where}.script[${k}]`));
    if (!script.some((s) => 'run' in s)) throw new WorkloadError(`${where}.script`, 'a script needs at least one run step');
    const loop = o.loop ?? true;
    if (typeof loop !== 'boolean') throw new WorkloadError(`${where}.loop`, 'loop is true or false');
    const cgroup = o.cgroup ?? '/';
    if (cgroup !== '/' && !cgroups.some((c) => c.path === cgroup)) {
      throw new WorkloadError(`${where}.cgroup`, `no cgroup ${JSON.stringify(cgroup)} (have: /${cgroups.map((c) => `, ${c.path}`).join('')})`);
    }
    return Object.freeze({
      name: taskName, count, nice: o.nice === undefined ? 0 : parseNice(o.nice, `${where}.nice`), cpus, kthread,
      start: o.start === undefined ? 0 : parseDuration(o.start, `${where}.start`), script: Object.freeze(script), loop,
      cgroup: cgroup as string,
    });
  });
  if (tasks.length === 0) throw new WorkloadError(name, 'no tasks');
  return Object.freeze({ name: typeof raw.name === 'string' ? raw.name : name, tasks: Object.freeze(tasks), cgroups, hotplug });
}

/** `"hotplug": [{"at": "500ms", "cpu": 3, "online": false}]`. */
function parseHotplug(v: unknown, nrCpus: number): readonly HotplugSpec[] {
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) throw new WorkloadError('hotplug', 'hotplug is a list of {"at", "cpu", "online"} objects');
  return Object.freeze(v.map((h, i): HotplugSpec => {
    const where = `hotplug[${i}]`;
    if (typeof h !== 'object' || h === null) throw new WorkloadError(where, 'a hotplug event is an object');
    const { at, cpu, online, ...rest } = h as Record<string, unknown>;
    if (Object.keys(rest).length) throw new WorkloadError(where, `unknown field '${Object.keys(rest)[0]}' (have: at, cpu, online)`);
    if (typeof cpu !== 'number' || !Number.isInteger(cpu) || cpu < 0 || cpu >= nrCpus) throw new WorkloadError(`${where}.cpu`, `a CPU number in 0..${nrCpus - 1}`);
    if (typeof online !== 'boolean') throw new WorkloadError(`${where}.online`, 'online is true or false');
    return Object.freeze({ at: parseDuration(at, `${where}.at`), cpu, online });
  }));
}

/** `"cgroups": [{"path": "/a", "weight": 200}, {"path": "/a/b"}]`: absolute paths, parents first. */
function parseCgroups(v: unknown): readonly CgroupSpec[] {
  if (v === undefined) return Object.freeze([]);
  if (!Array.isArray(v)) throw new WorkloadError('cgroups', 'cgroups is a list of {"path", "weight"} objects');
  const seen = new Set(['/']);
  return Object.freeze(v.map((c, i): CgroupSpec => {
    const where = `cgroups[${i}]`;
    if (typeof c !== 'object' || c === null) throw new WorkloadError(where, 'a cgroup is an object with a path');
    const { path, weight = 100, ...rest } = c as Record<string, unknown>;
    if (Object.keys(rest).length) throw new WorkloadError(where, `unknown field '${Object.keys(rest)[0]}' (have: path, weight)`);
    if (typeof path !== 'string' || !/^(\/[A-Za-z0-9_.-]+)+$/.test(path)) throw new WorkloadError(`${where}.path`, 'a path is like "/web/api" (names of letters, digits, _ . -)');
    if (seen.has(path)) throw new WorkloadError(`${where}.path`, `${path} is declared twice`);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!seen.has(parent)) throw new WorkloadError(`${where}.path`, `its parent ${parent} must be declared before it`);
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 10000) {
      throw new WorkloadError(`${where}.weight`, 'cpu.weight is an integer in 1..10000');
    }
    seen.add(path);
    return Object.freeze({ path, weight });
  }));
}

/**
 * The built-in workloads, for `nrCpus` CPUs:
 * - `hogs`: 2 × nrCpus CPU-bound tasks (100 ms bursts, no sleep).
 * - `mixed`: nrCpus hogs, nrCpus interactive tasks (1 ms run, 4 ms sleep), nrCpus batch tasks
 *   (20 ms run, 10 ms sleep) — the default.
 * - `weights`: on CPU 0 only, one nice -5, one nice 0 and one nice 5 hog (weights 335 : 100 : 30).
 * - `pinned`: one hog per CPU, pinned, plus nrCpus unpinned hogs.
 * - `kthreads`: a per-CPU kernel thread on each CPU (1 ms run, 9 ms sleep) and nrCpus hogs.
 */
export const PRESETS = ['mixed', 'hogs', 'weights', 'pinned', 'kthreads'] as const;
export type PresetName = typeof PRESETS[number];

export function presetWorkload(name: string, nrCpus: number): WorkloadSpec {
  const hog = (n: string, count: number, extra: object = {}) => ({ name: n, count, script: [{ run: '100ms' }], ...extra });
  const presets: Record<PresetName, unknown> = {
    hogs: { tasks: [hog('hog', 2 * nrCpus)] },
    mixed: {
      tasks: [
        hog('hog', nrCpus),
        { name: 'inter', count: nrCpus, script: [{ run: '1ms' }, { sleep: '4ms' }] },
        { name: 'batch', count: nrCpus, script: [{ run: '20ms' }, { sleep: '10ms' }] },
      ],
    },
    weights: { tasks: [hog('hi', 1, { nice: -5, cpus: [0] }), hog('mid', 1, { nice: 0, cpus: [0] }), hog('lo', 1, { nice: 5, cpus: [0] })] },
    pinned: { tasks: [...Array.from({ length: nrCpus }, (_, c) => hog(`pin${c}`, 1, { cpus: [c] })), hog('free', nrCpus)] },
    kthreads: {
      tasks: [
        ...Array.from({ length: nrCpus }, (_, c) => ({ name: `kworker/${c}`, kthread: true, cpus: [c], script: [{ run: '1ms' }, { sleep: '9ms' }] })),
        hog('hog', nrCpus),
      ],
    },
  };
  if (!(PRESETS as readonly string[]).includes(name)) throw new WorkloadError(name, `no such preset (have: ${PRESETS.join(', ')})`);
  return parseWorkload(presets[name as PresetName], nrCpus, name);
}
