/**
 * The scratch-install race lab: one arena page-table slot, the arena's shared scratch page, per-CPU
 * TLBs and two simulated CPUs whose programs are lists of explicit atomic steps, explored over
 * every interleaving.
 *
 * - CPU A runs `bpf_arena_alloc_pages` for the page (spec §2.1): range-tree bookkeeping (mark the
 *   page allocated, §2.2 range_tree_clear), allocate a zeroed page (__GFP_ZERO), then install it
 *   with `apply_range_set_cb` in one of two variants (§3.3):
 *     pre-fix  — as merged in 8496d902: read the PTE; not none → -EBUSY, roll back, return NULL;
 *                else set_pte_at(real) (a plain store: check-then-set);
 *     fixed    — f64c7237: `while (!ptep_try_set(pte, real))` { read: none → retry; scratch →
 *                ptep_get_and_clear + flush_tlb_before_set (break-before-make), retry; else
 *                WARN, -EBUSY }.
 * - CPU B runs a kfunc making one store to the page that is issued before the allocation
 *   returns, and one load after it has returned. Each access goes through B's TLB: hit → use it;
 *   miss → walk the PTE: real/scratch → fill the TLB, access; none → page fault →
 *   `bpf_arena_handle_page_fault` (§3.3 step 4: best-effort ptep_try_set(scratch), §3.1) and the
 *   instruction retries through a fresh walk.
 *
 * Flush model (the brief asks to choose): flush_tlb_before_set is ONE explicit step of A that
 * invalidates every CPU's entry for the page. In the kernel it is synchronous (an IPI the remote
 * CPU services between instructions, and A waits for the acks), so by default (`flush: 'ipi'`)
 * the step is enabled only while B is at an instruction boundary — not between the walk of an
 * access and the access itself (B's `fill`/`access` steps). `flush: 'async'` drops that
 * restriction (an ablation: it shows why the synchronous flush matters).
 *
 * Simplifications: one page; the arena rqspinlock A holds is not modelled (B's fault path is
 * lock-free and never takes it, §3.1); TLBs cache present translations only (no negative
 * entries — §3.3's "stale not-mapped entries" would only add re-faults); A never touches the page
 * through the arena mapping (it zeroes it through the linear map), so A's TLB stays empty; the
 * stream report and flush_vmap_cache of the fault path are folded into the fault step; B's
 * repeated faults on one access are bounded by `maxFaults` (see `explore`).
 */
import { hex } from '../text.js';

export type Variant = 'pre-fix' | 'fixed';
export const VARIANTS: readonly Variant[] = ['pre-fix', 'fixed'];
export type Cpu = 'A' | 'B';
/** What the page-table slot holds. */
export type Pte = 'none' | 'scratch' | 'real';
/** What a TLB entry / a translation points at. */
export type Page = 'scratch' | 'real';
export type FlushMode = 'ipi' | 'async';
/** Whose flush_tlb_before_set: arm64 flushes the page (a broadcast TLBI); x86-64's is empty. spec §3.1 */
export type Arch = 'arm64' | 'x86_64';
export const ARCHES: readonly Arch[] = ['x86_64', 'arm64'];

export interface ModelOptions {
  /** 'arm64' (default): flush_tlb_before_set invalidates every CPU's entry; 'x86_64': it does nothing. */
  arch?: Arch;
  /** Fault-handler entries allowed per access of B before the path is cut (default 2). */
  maxFaults?: number;
  /** 'ipi' (default): the flush waits for B's instruction boundary; 'async': it may land anywhere. */
  flush?: FlushMode;
}
type Options = Required<ModelOptions>;
const DEFAULTS: Options = { arch: 'arm64', maxFaults: 2, flush: 'ipi' };

/** The value B stores; pages start zeroed (fresh scratch page; __GFP_ZERO for the real one). */
export const STORED_VALUE = 0x2a;

export interface State {
  pte: Pte;
  tlb: Record<Cpu, Page | null>;
  rangeTree: 'free' | 'allocated';
  real: { status: 'unallocated' | 'live' | 'freed'; value: number };
  scratchValue: number;
  a: { pc: string; result: 'ptr' | 'null' | null };
  b: {
    pc: string;
    op: 'store' | 'load';
    started: boolean;
    /** The translation the current access got (TLB hit or walk). */
    walked: Page | null;
    hit: boolean;
    faults: number;
    faultsThisAccess: number;
    storeLanded: Page | null;
    loadPage: Page | null;
    loadValue: number | null;
    loadVia: 'tlb-hit' | 'walk' | null;
  };
  /** Set when B would fault more than maxFaults times on one access: the path is cut. */
  truncated: boolean;
}

/** One atomic step. `run` mutates the state, sets the CPU's next pc and returns a trace detail. */
export interface Step {
  enabled?(s: State, o: Options): boolean;
  run(s: State, o: Options): string;
}
export interface Program { start: string; steps: Record<string, Step> }

export function initialState(variant: Variant): State {
  return {
    pte: 'none', tlb: { A: null, B: null }, rangeTree: 'free',
    real: { status: 'unallocated', value: 0 }, scratchValue: 0,
    a: { pc: programA(variant).start, result: null },
    b: {
      pc: PROGRAM_B.start, op: 'store', started: false, walked: null, hit: false, faults: 0, faultsThisAccess: 0,
      storeLanded: null, loadPage: null, loadValue: null, loadVia: null,
    },
    truncated: false,
  };
}

function clone(s: State): State {
  return {
    ...s, tlb: { ...s.tlb }, real: { ...s.real }, a: { ...s.a }, b: { ...s.b },
  };
}

// ---- CPU A: bpf_arena_alloc_pages for one page (§2.1) ----

/** §2.1: bpf_map_alloc_pages with __GFP_ZERO — the page is zero before it is installed. */
function allocZeroed(next: string): Step {
  return { run: (s) => { s.real = { status: 'live', value: 0 }; s.a.pc = next; return 'alloc zeroed page'; } };
}

/** Steps both variants share: bookkeeping before the install, rollback, return. */
const A_COMMON: Record<string, Step> = {
  // §2.1/§2.2: range_tree_clear marks the slot allocated (under the arena lock; B never looks).
  rt_clear: { run: (s) => { s.rangeTree = 'allocated'; s.a.pc = 'alloc_zeroed'; return 'range_tree_clear'; } },
  // §2.1 "all-or-nothing": free the page, give the range back to the tree, return NULL.
  rollback: {
    run: (s) => { s.real.status = 'freed'; s.rangeTree = 'free'; s.a.result = 'null'; s.a.pc = 'return'; return 'rollback (free page, range_tree_set)'; },
  },
  // The kfunc returns. B's store is issued before this (the brief: "before the allocation
  // completes"), so the step waits until B has started.
  return: {
    enabled: (s) => s.b.started,
    run: (s) => { s.a.result ??= 'ptr'; s.a.pc = 'done'; return `return ${s.a.result === 'ptr' ? 'ptr' : 'NULL'}`; },
  },
};

/** apply_range_set_cb as merged (8496d902, §3.3): check the PTE is none, then set it. */
const PROGRAM_A_PRE_FIX: Program = {
  start: 'rt_clear',
  steps: {
    ...A_COMMON,
    alloc_zeroed: allocZeroed('check_pte'),
    check_pte: {
      run: (s) => {
        const seen = s.pte;
        s.a.pc = seen === 'none' ? 'set_pte' : 'rollback';
        return seen === 'none' ? 'read pte=none' : `read pte=${seen} → -EBUSY`;
      },
    },
    // set_pte_at: a plain store; it overwrites a scratch PTE installed since the check, valid →
    // valid, with no flush (the race David Hildenbrand pointed out, §3.3).
    set_pte: {
      run: (s) => {
        const was = s.pte;
        s.pte = 'real'; s.a.pc = 'return';
        return was === 'none' ? 'set_pte_at(real)' : `set_pte_at(real) over ${was}`;
      },
    },
  },
};

/** apply_range_set_cb after f64c7237 (§3.3): the ptep_try_set loop with break-before-make. */
const PROGRAM_A_FIXED: Program = {
  start: 'rt_clear',
  steps: {
    ...A_COMMON,
    alloc_zeroed: allocZeroed('try_set'),
    // §3.1 ptep_try_set: cmpxchg none → real.
    try_set: {
      run: (s) => {
        if (s.pte === 'none') { s.pte = 'real'; s.a.pc = 'return'; return 'ptep_try_set(real) ok'; }
        s.a.pc = 'read_pte';
        return 'ptep_try_set(real) failed';
      },
    },
    read_pte: {
      run: (s) => {
        const seen = s.pte;
        s.a.pc = seen === 'none' ? 'try_set' : seen === 'scratch' ? 'clear' : 'rollback';
        return seen === 'real' ? 'read pte=real → WARN, -EBUSY' : `read pte=${seen}`;
      },
    },
    // ptep_get_and_clear: atomic exchange with none (pairs with the fault path's try_set, §3.3).
    clear: { run: (s) => { s.pte = 'none'; s.a.pc = 'flush'; return 'ptep_get_and_clear'; } },
    // flush_tlb_before_set (§3.1): on arm64, invalidate every CPU's entry for the page (a
    // broadcast TLBI: waits for B to be between instructions unless the ablation says
    // otherwise). On x86-64 the generic empty function: B keeps what its TLB holds (§3.3).
    flush: {
      enabled: (s, o) => o.arch === 'x86_64' || o.flush === 'async' || !B_IN_INSTRUCTION.has(s.b.pc),
      run: (s, o) => {
        s.a.pc = 'try_set';
        if (o.arch === 'x86_64') return 'flush_tlb_before_set (empty on x86-64: no flush)';
        s.tlb.A = null; s.tlb.B = null;
        return 'flush_tlb_before_set';
      },
    },
  },
};

export function programA(variant: Variant): Program {
  return variant === 'pre-fix' ? PROGRAM_A_PRE_FIX : PROGRAM_A_FIXED;
}

// ---- CPU B: the kfunc's two accesses (§3.3) ----

/** B's pcs strictly inside an access instruction (after its translation, before its access). */
const B_IN_INSTRUCTION = new Set(['fill', 'access']);

export const PROGRAM_B: Program = {
  start: 'walk',
  steps: {
    // TLB lookup; on a miss, the page-table walk (one atomic read of the PTE). The load is made
    // only after the allocation has returned (B has seen A's result).
    walk: {
      enabled: (s) => s.b.op === 'store' || s.a.pc === 'done',
      run: (s) => {
        s.b.started = true;
        const entry = s.tlb.B;
        if (entry !== null) { s.b.walked = entry; s.b.hit = true; s.b.pc = 'access'; return `${s.b.op}: TLB hit ${entry}`; }
        s.b.hit = false;
        if (s.pte === 'none') { s.b.walked = null; s.b.pc = 'fault'; return `${s.b.op}: TLB miss, pte=none → fault`; }
        s.b.walked = s.pte; s.b.pc = 'fill';
        return `${s.b.op}: TLB miss, pte=${s.pte}`;
      },
    },
    fill: { run: (s) => { s.tlb.B = s.b.walked; s.b.pc = 'access'; return `${s.b.op}: fill TLB ${s.b.walked}`; } },
    access: {
      run: (s) => {
        const page = s.b.walked!;
        if (s.b.op === 'store') {
          if (page === 'real') s.real.value = STORED_VALUE; else s.scratchValue = STORED_VALUE;
          s.b.storeLanded = page;
          s.b.op = 'load'; s.b.pc = 'walk'; s.b.walked = null; s.b.faultsThisAccess = 0;
          return `store ${hex(STORED_VALUE)} → ${page} page`;
        }
        const value = page === 'real' ? s.real.value : s.scratchValue;
        s.b.loadPage = page; s.b.loadValue = value; s.b.loadVia = s.b.hit ? 'tlb-hit' : 'walk';
        s.b.pc = 'done';
        return `load ${page} page = ${hex(value)}`;
      },
    },
    // bpf_arena_handle_page_fault (§3.3): best-effort ptep_try_set(scratch), report, return
    // true → the instruction retries (a fresh walk; the TLB cached nothing for it).
    fault: {
      run: (s, o) => {
        if (s.b.faultsThisAccess >= o.maxFaults) { s.truncated = true; return `${s.b.op}: fault #${s.b.faultsThisAccess + 1} (cut)`; }
        s.b.faults++; s.b.faultsThisAccess++;
        s.b.pc = 'walk';
        if (s.pte === 'none') { s.pte = 'scratch'; return `${s.b.op}: fault → ptep_try_set(scratch) ok`; }
        return `${s.b.op}: fault → ptep_try_set(scratch) failed (pte=${s.pte})`;
      },
    },
  },
};

// ---- Scheduling ----

function program(cpu: Cpu, variant: Variant): Program {
  return cpu === 'A' ? programA(variant) : PROGRAM_B;
}
function pcOf(s: State, cpu: Cpu): string { return cpu === 'A' ? s.a.pc : s.b.pc; }

export function isDone(s: State): boolean { return s.a.pc === 'done' && s.b.pc === 'done'; }

export function enabledCpus(s: State, variant: Variant, opts: ModelOptions = {}): Cpu[] {
  const o = { ...DEFAULTS, ...opts };
  return (['A', 'B'] as const).filter((cpu) => {
    const pc = pcOf(s, cpu);
    if (pc === 'done') return false;
    const step = program(cpu, variant).steps[pc];
    return step.enabled ? step.enabled(s, o) : true;
  });
}

/** Run one step of `cpu` on a copy of `s`; returns the new state and the trace label. */
export function step(s: State, cpu: Cpu, variant: Variant, opts: ModelOptions = {}): { state: State; label: string } {
  const o = { ...DEFAULTS, ...opts };
  const t = clone(s);
  const pc = pcOf(t, cpu);
  const detail = program(cpu, variant).steps[pc].run(t, o);
  return { state: t, label: `${cpu}.${pc}: ${detail}` };
}

// ---- Outcomes ----

export interface Outcome {
  finalPte: Pte;
  /** bpf_arena_alloc_pages returned NULL. */
  allocFailed: boolean;
  /** Where B's store, issued before the allocation returned, landed. */
  storeLanded: Page;
  /** The page B's load after the allocation returned read, how it translated, and the value. */
  loadPage: Page;
  loadVia: 'tlb-hit' | 'walk';
  loadValue: number;
  /** The load used a scratch translation although the PTE holds the real page. */
  loadStale: boolean;
}

/** Outcome fields in table order; the key of an outcome group. */
export function outcomeKey(o: Outcome): string {
  return [o.finalPte, o.allocFailed, o.storeLanded, o.loadPage, o.loadVia, o.loadValue, o.loadStale].join('|');
}

/** The allocation failed or the load after it returned missed the real page. */
export function isBad(o: Outcome): boolean { return o.allocFailed || o.loadPage !== 'real'; }

export function outcomeOf(s: State): Outcome {
  const b = s.b;
  return {
    finalPte: s.pte, allocFailed: s.a.result === 'null', storeLanded: b.storeLanded!,
    loadPage: b.loadPage!, loadVia: b.loadVia!, loadValue: b.loadValue!,
    loadStale: b.loadPage === 'scratch' && s.pte === 'real',
  };
}

export interface OutcomeGroup {
  outcome: Outcome;
  count: number;
  /** Fault-handler entries (stream reports) seen among this group's interleavings. */
  faults: { min: number; max: number };
  /** The shortest interleaving reaching it (first found on ties): schedule and step trace. */
  example: { schedule: string; trace: string[] };
}

export interface Exploration {
  variant: Variant;
  options: Options;
  /** Complete interleavings explored (each a distinct schedule). */
  interleavings: number;
  /** Paths cut because B would fault more than maxFaults times on one access. */
  truncated: number;
  outcomes: OutcomeGroup[];
}

/**
 * Depth-first search over every interleaving: at each point, each enabled CPU's next step is a
 * branch. No dedupe: every complete schedule is counted once. A path is cut when B would take its
 * (maxFaults+1)-th fault on one access — in the fixed variant B's re-scratch and A's
 * clear+flush can repeat forever (a livelock cycle back to an earlier state, see
 * `reachableOutcomes`), so the set of schedules is infinite without a bound.
 */
export function explore(variant: Variant, opts: ModelOptions = {}): Exploration {
  const o = { ...DEFAULTS, ...opts };
  const groups = new Map<string, OutcomeGroup>();
  let interleavings = 0;
  let truncated = 0;
  const schedule: Cpu[] = [];
  const trace: string[] = [];
  const dfs = (s: State): void => {
    if (s.truncated) { truncated++; return; }
    if (isDone(s)) {
      interleavings++;
      const outcome = outcomeOf(s);
      const key = outcomeKey(outcome);
      const g = groups.get(key);
      if (!g) {
        groups.set(key, {
          outcome, count: 1, faults: { min: s.b.faults, max: s.b.faults },
          example: { schedule: schedule.join(''), trace: [...trace] },
        });
      } else {
        g.count++;
        g.faults.min = Math.min(g.faults.min, s.b.faults);
        g.faults.max = Math.max(g.faults.max, s.b.faults);
        if (trace.length < g.example.trace.length) g.example = { schedule: schedule.join(''), trace: [...trace] };
      }
      return;
    }
    const cpus = enabledCpus(s, variant, o);
    if (cpus.length === 0) throw new Error(`race-lab: deadlock at A.${s.a.pc} / B.${s.b.pc}`);
    for (const cpu of cpus) {
      const { state, label } = step(s, cpu, variant, o);
      schedule.push(cpu); trace.push(label);
      dfs(state);
      schedule.pop(); trace.pop();
    }
  };
  dfs(initialState(variant));
  const outcomes = [...groups.values()].sort((x, y) => y.count - x.count || outcomeKey(x.outcome).localeCompare(outcomeKey(y.outcome)));
  return { variant, options: o, interleavings, truncated, outcomes };
}

/** Replay one schedule ("AABAB…", one letter per step). Throws if a letter names a CPU that
 * cannot step there, or if the schedule ends before both CPUs are done. */
export function replay(variant: Variant, schedule: string, opts: ModelOptions = {}): { outcome: Outcome; trace: string[]; state: State } {
  let s = initialState(variant);
  const trace: string[] = [];
  for (const [i, c] of [...schedule].entries()) {
    if (c !== 'A' && c !== 'B') throw new Error(`race-lab: bad schedule letter '${c}'`);
    if (!enabledCpus(s, variant, opts).includes(c)) throw new Error(`race-lab: CPU ${c} cannot step at position ${i} (A.${s.a.pc}, B.${s.b.pc})`);
    const r = step(s, c, variant, opts);
    s = r.state; trace.push(r.label);
    if (s.truncated) throw new Error(`race-lab: schedule exceeds maxFaults at position ${i}`);
  }
  if (!isDone(s)) throw new Error(`race-lab: schedule ends early (A.${s.a.pc}, B.${s.b.pc})`);
  return { outcome: outcomeOf(s), trace, state: s };
}

/** A state's identity without its counters (faults) — what the livelock cycle returns to. */
function stateKey(s: State): string {
  const b = s.b;
  return JSON.stringify([s.pte, s.tlb, s.rangeTree, s.real, s.scratchValue, s.a, b.pc, b.op, b.started, b.walked, b.hit,
    b.storeLanded, b.loadPage, b.loadValue, b.loadVia]);
}

/**
 * The outcomes reachable in the full state graph, with no fault bound: a search over distinct
 * states (counters dropped, so the livelock cycle closes). Checks that the bounded `explore`
 * misses no outcome. Also returns the number of distinct states.
 */
export function reachableOutcomes(variant: Variant, opts: ModelOptions = {}): { states: number; outcomes: Set<string> } {
  const o = { ...DEFAULTS, ...opts, maxFaults: Number.POSITIVE_INFINITY };
  const seen = new Set<string>();
  const outcomes = new Set<string>();
  const stack = [initialState(variant)];
  while (stack.length) {
    const s = stack.pop()!;
    const key = stateKey(s);
    if (seen.has(key)) continue;
    seen.add(key);
    if (isDone(s)) { outcomes.add(outcomeKey(outcomeOf(s))); continue; }
    const cpus = enabledCpus(s, variant, o);
    if (cpus.length === 0) throw new Error(`race-lab: deadlock at A.${s.a.pc} / B.${s.b.pc}`);
    for (const cpu of cpus) stack.push(step(s, cpu, variant, o).state);
  }
  return { states: seen.size, outcomes };
}
