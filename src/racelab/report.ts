/**
 * The race lab's outcome tables (text and JSON) — see model.ts and spec §3.3.
 */
import { hex } from '../text.js';
import { Arch, explore, Exploration, isBad, ModelOptions, Outcome, OutcomeGroup, STORED_VALUE, Variant, VARIANTS } from './model.js';

export const VARIANT_TITLES: Record<Variant, string> = {
  'pre-fix': 'apply_range_set_cb as merged (8496d902): read the PTE, -EBUSY unless none, then set_pte_at',
  fixed: 'apply_range_set_cb after f64c7237: ptep_try_set loop, break-before-make over the scratch page',
};

/** One word on what an outcome means for the program. */
export function verdict(o: Outcome): string {
  if (o.allocFailed) return 'BAD: allocation failed (NULL)';
  if (o.loadStale) return 'BAD: load after return used a stale scratch translation';
  if (o.loadPage !== 'real') return 'BAD: load after return missed the real page';
  return o.storeLanded === 'scratch' ? 'ok (early store absorbed by scratch)' : 'ok';
}

export interface GroupJson extends Outcome {
  count: number;
  faults: { min: number; max: number };
  bad: boolean;
  verdict: string;
  example: { schedule: string; trace: string[] };
}
export interface ExplorationJson {
  variant: Variant;
  description: string;
  options: Exploration['options'];
  interleavings: number;
  truncated: number;
  distinctOutcomes: number;
  outcomes: GroupJson[];
}

export function explorationJson(e: Exploration): ExplorationJson {
  return {
    variant: e.variant, description: VARIANT_TITLES[e.variant], options: e.options,
    interleavings: e.interleavings, truncated: e.truncated, distinctOutcomes: e.outcomes.length,
    outcomes: e.outcomes.map((g: OutcomeGroup) => ({
      ...g.outcome, count: g.count, faults: g.faults, bad: isBad(g.outcome), verdict: verdict(g.outcome), example: g.example,
    })),
  };
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function formatExploration(e: Exploration): string {
  const o = e.options;
  const out = [
    `== ${e.variant} on ${o.arch}: ${VARIANT_TITLES[e.variant]}`,
    `${e.interleavings} interleavings explored exhaustively, ${e.outcomes.length} distinct outcomes` +
      ` (flush_tlb_before_set: ${o.arch === 'x86_64' ? 'empty on x86-64' : o.flush === 'ipi' ? 'arm64 broadcast TLBI, waits for B\'s instruction boundary' : 'asynchronous (ablation)'};` +
      ` at most ${o.maxFaults} faults per access, ${e.truncated} paths cut at that bound)`,
    '',
  ];
  const rows = e.outcomes.map((g, i) => {
    const x = g.outcome;
    return [
      String(i + 1), String(g.count), x.finalPte, x.allocFailed ? 'NULL' : 'ptr',
      x.storeLanded === 'real' ? 'real page' : 'scratch (lost)',
      `${x.loadPage} page via ${x.loadVia === 'tlb-hit' ? 'TLB hit' : 'walk'} = ${hex(x.loadValue)}`,
      g.faults.min === g.faults.max ? String(g.faults.min) : `${g.faults.min}-${g.faults.max}`,
      verdict(x),
    ];
  });
  out.push(...table(['#', 'count', 'final PTE', 'alloc', `B store ${hex(STORED_VALUE)} (before return)`, 'B load (after return)', 'faults', 'verdict'], rows));
  out.push('', 'One example interleaving per outcome (the shortest; A steps left, B steps indented):');
  e.outcomes.forEach((g, i) => {
    out.push(`  #${i + 1}  schedule ${g.example.schedule}`);
    for (const t of g.example.trace) out.push(t.startsWith('A.') ? `      ${t}` : `                    ${t}`);
  });
  return out.join('\n');
}

export const RACE_LAB_NOTES = [
  'A store made before bpf_arena_alloc_pages returned targets a page that does not exist yet: the fault',
  'handler (§3.3) sends it to the shared scratch page, and the allocation then installs a fresh zeroed',
  'page, so that store is lost in both variants — by design, and reported on the program\'s stderr.',
  'The bug is what happens after the allocation returned: pre-fix, the allocation can fail (NULL) or',
  'the page can be installed over a scratch PTE without break-before-make, leaving a stale scratch',
  'translation in B\'s TLB. Fixed, the allocation always succeeds; on arm64 every later access then',
  'sees the page, but on x86-64 flush_tlb_before_set is empty, so a CPU that cached the scratch',
  'translation keeps reading and writing the scratch page after the allocation returned, until the',
  'entry is evicted. The kernel\'s contract allows it: a scratch page present means the program already',
  'malfunctioned (it touched memory it had not allocated); the kernel must only not crash.',
].join('\n');

export function raceLab(variants: readonly Variant[] = VARIANTS, opts: ModelOptions = {}, arches: readonly Arch[] = [opts.arch ?? 'arm64']): Exploration[] {
  return arches.flatMap((arch) => variants.map((v) => explore(v, { ...opts, arch })));
}

export function formatRaceLab(results: Exploration[]): string {
  return [...results.map(formatExploration), RACE_LAB_NOTES].join('\n\n');
}
