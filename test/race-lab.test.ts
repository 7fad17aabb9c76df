// The scratch-install race lab (spec §3.1, §3.3, §2.1): bpf_arena_alloc_pages on CPU A racing a
// kfunc's fault-path scratch install on CPU B, every interleaving, pre-fix (8496d902) and fixed
// (f64c7237) PTE install.
import assert from 'node:assert/strict';
import { explore, isBad, ModelOptions, Outcome, outcomeKey, reachableOutcomes, replay, Variant } from '../src/racelab/model.js';
import { explorationJson, formatRaceLab, raceLab } from '../src/racelab/report.js';
import { bpfrun } from './helpers.js';

const C = (n: number, k: number): number => (k < 0 || k > n ? 0 : k === 0 ? 1 : (C(n - 1, k - 1) * n) / k);

/** Counts keyed by a readable outcome description. */
function byOutcome(variant: Variant, opts: ModelOptions = {}): Map<string, number> {
  return new Map(explore(variant, opts).outcomes.map((g) => [outcomeKey(g.outcome), g.count]));
}
// outcomeKey field order: finalPte|allocFailed|storeLanded|loadPage|loadVia|loadValue|loadStale
const FAILED = 'scratch|true|scratch|scratch|tlb-hit|42|false';
const OK_REAL = 'real|false|real|real|tlb-hit|42|false';
const STALE = 'real|false|scratch|scratch|tlb-hit|42|true';
const OK_LOST = 'real|false|scratch|real|walk|0|false';

/**
 * Hand count: merges of B's step sequence into A's (n steps), given as "how many A steps precede
 * each B step" — non-decreasing tuples within per-step [lo, hi] bounds. Independent of the model.
 */
function merges(bounds: [number, number][]): number {
  const go = (i: number, min: number): number => {
    if (i === bounds.length) return 1;
    let n = 0;
    for (let x = Math.max(min, bounds[i][0]); x <= bounds[i][1]; x++) n += go(i + 1, x);
    return n;
  };
  return go(0, 0);
}

describe('race lab: scratch install vs bpf_arena_alloc_pages (§3.3)', () => {
  it('pre-fix: some interleaving makes the allocation fail, another leaves a stale scratch translation', () => {
    const e = explore('pre-fix');
    const bad = e.outcomes.filter((g) => isBad(g.outcome));
    assert.ok(bad.length > 0);
    assert.ok(e.outcomes.some((g) => g.outcome.allocFailed && g.outcome.finalPte === 'scratch'));
    assert.ok(e.outcomes.some((g) => !g.outcome.allocFailed && g.outcome.loadStale && g.outcome.finalPte === 'real'));
  });

  it('fixed: no interleaving fails the allocation or misses the real page afterwards', () => {
    const e = explore('fixed');
    assert.ok(e.interleavings > 0);
    for (const g of e.outcomes) {
      assert.equal(isBad(g.outcome), false, JSON.stringify(g));
      assert.equal(g.outcome.allocFailed, false);
      assert.equal(g.outcome.finalPte, 'real');
      assert.equal(g.outcome.loadPage, 'real');
      assert.equal(g.outcome.loadStale, false);
    }
    // …also with a larger fault bound, and in the unbounded state graph.
    assert.ok(explore('fixed', { maxFaults: 3 }).outcomes.every((g) => !isBad(g.outcome)));
    assert.deepEqual([...reachableOutcomes('fixed').outcomes].sort(), [OK_LOST, OK_REAL].sort());
  });

  it('the store made before the allocation returned may be lost to the scratch page in both variants', () => {
    // It targeted a page that did not exist yet (the allocation had not completed): the fault
    // handler sent it to the scratch page and the fresh zeroed page replaced the scratch PTE.
    for (const v of ['pre-fix', 'fixed'] as const) {
      const e = explore(v);
      assert.ok(e.outcomes.some((g) => g.outcome.storeLanded === 'scratch'), v);
      assert.ok(e.outcomes.some((g) => g.outcome.storeLanded === 'real'), v);
    }
    // Fixed: the lost store leaves the returned page zeroed; the load sees 0 from the real page.
    const lost = explore('fixed').outcomes.find((g) => g.outcome.storeLanded === 'scratch')!.outcome;
    assert.deepEqual(lost, { finalPte: 'real', allocFailed: false, storeLanded: 'scratch', loadPage: 'real', loadVia: 'walk', loadValue: 0, loadStale: false } satisfies Outcome);
  });

  it('exact outcome counts', () => {
    const pre = explore('pre-fix');
    assert.equal(pre.interleavings, 249);
    assert.equal(pre.truncated, 0);
    assert.deepEqual(byOutcome('pre-fix'), new Map([[FAILED, 186], [OK_REAL, 39], [STALE, 24]]));

    const fixed = explore('fixed'); // default bound: 2 faults per access
    assert.equal(fixed.interleavings, 702);
    assert.equal(fixed.truncated, 126);
    assert.deepEqual(byOutcome('fixed'), new Map([[OK_LOST, 528], [OK_REAL, 174]]));

    const fixed1 = explore('fixed', { maxFaults: 1 });
    assert.equal(fixed1.interleavings, 222);
    assert.equal(fixed1.truncated, 42);
    assert.deepEqual(byOutcome('fixed', { maxFaults: 1 }), new Map([[OK_LOST, 180], [OK_REAL, 42]]));
  });

  it('the counts agree with hand combinatorics', () => {
    // pre-fix A: rt_clear, alloc_zeroed, check_pte, set_pte|rollback, return (5 steps).
    // B's store: walk=none, fault, walk, fill, access (5 steps) unless its walk comes after
    // set_pte (then walk=real, fill, access). The load (2 steps: TLB hit, access) runs alone
    // after A returned, so it adds no interleavings.
    // All merges of 5+5 steps, less the 6 whose walk follows set_pte (return in any of 6 places
    // after it), plus the 3 non-faulting ones (return after the walk, among fill/access):
    assert.equal(C(10, 5) - 6 + 3, 249);
    // Failure: the fault's scratch install precedes check_pte (A's 3rd step): ≤2 A steps before
    // B's 2nd step — Σ_j (j+1)·C(8−j, 3).
    assert.equal(merges([[0, 2], [0, 2], [0, 5], [0, 5], [0, 5]]), 186);
    assert.equal([0, 1, 2].reduce((n, j) => n + (j + 1) * C(8 - j, 3), 0), 186);
    // Stale: check_pte < fault < walk(scratch) < set_pte; fill/access anywhere after the walk.
    assert.equal(merges([[0, 3], [3, 3], [3, 3], [3, 5], [3, 5]]), 24);
    assert.equal(4 * C(4, 2), 24);

    // fixed, at most one fault per access. A: rt_clear, alloc_zeroed, try_set, then (if the
    // slot held scratch) read_pte, clear, flush, try_set, and return.
    // Store in the real page: no fault (3) + fault losing to the install (3·5) + scratch, A
    // clears it and installs before B's re-walk (C(4,2)·4):
    assert.equal(3 + 3 * 5 + C(4, 2) * 4, 42);
    // Store lost to scratch: fault before try_set (≤2 A steps), re-walk before clear (≤4), and
    // the access before the flush (≤5: the IPI waits for B's instruction to end).
    assert.equal(merges([[0, 8], [0, 2], [0, 4], [0, 5], [0, 5]]), 180);
    // Cut: the re-walk lands between clear and the second try_set (5..6 A steps) → a 2nd fault.
    assert.equal(merges([[0, 8], [0, 2], [5, 6], [0, 8]]), 42);
  });

  it('hand-checked interleavings replay to the expected outcomes', () => {
    // pre-fix, the scratch lands before the check: -EBUSY, rollback, NULL.
    const fail = replay('pre-fix', 'AABBAAABBBBB');
    assert.equal(fail.outcome.allocFailed, true);
    assert.equal(fail.state.rangeTree, 'free');
    assert.equal(fail.state.real.status, 'freed');
    assert.ok(fail.trace.includes('A.check_pte: read pte=scratch → -EBUSY'));

    // pre-fix, check saw none, then the scratch install, B's walk fills it, set_pte_at overwrites
    // it valid → valid with no flush: after the allocation returned B still reads scratch.
    const stale = replay('pre-fix', 'AAABBBAABBBB');
    assert.equal(stale.outcome.loadStale, true);
    assert.equal(stale.outcome.loadValue, 0x2a);
    assert.deepEqual(stale.trace.slice(3, 7), [
      'B.walk: store: TLB miss, pte=none → fault', 'B.fault: store: fault → ptep_try_set(scratch) ok',
      'B.walk: store: TLB miss, pte=scratch', 'A.set_pte: set_pte_at(real) over scratch',
    ]);

    // The same race against the fixed install: try_set fails, break-before-make, the load walks
    // to the real, zeroed page.
    const fixed = replay('fixed', 'AABBAABABBAAABBB');
    assert.deepEqual(fixed.outcome, { finalPte: 'real', allocFailed: false, storeLanded: 'scratch', loadPage: 'real', loadVia: 'walk', loadValue: 0, loadStale: false });
    assert.equal(fixed.state.scratchValue, 0x2a);

    // The store after the install lands in the real page.
    assert.deepEqual(replay('fixed', 'AAABABBBB').outcome, { finalPte: 'real', allocFailed: false, storeLanded: 'real', loadPage: 'real', loadVia: 'tlb-hit', loadValue: 0x2a, loadStale: false });

    // The flush is a synchronous IPI: with B between its walk (scratch) and its fill, A's flush
    // cannot be scheduled…
    assert.throws(() => replay('fixed', 'AABBAABAA' + 'BB' + 'AAA' + 'BBB'), /CPU A cannot step at position 8/);
    // …unless the ablation lets it land there, and then the stale fill survives the flush.
    const async = replay('fixed', 'AABBAABAA' + 'BB' + 'AA' + 'BB', { flush: 'async' });
    assert.equal(async.outcome.loadStale, true);
    // A's return waits for B's store to have started ("before the allocation completes").
    assert.throws(() => replay('pre-fix', 'AAAAABBBBB'), /CPU A cannot step at position 4/);
  });

  it('the exploration is exhaustive: every valid schedule string, brute force', () => {
    // Every string over {A,B} up to the longest possible run is replayed independently of the
    // search; the valid complete ones must be exactly the explorer's interleavings, outcome by
    // outcome. (Longest runs: pre-fix 5 + 5 + 2 = 12; fixed with one fault 8 + 5 + 3 = 16.)
    for (const [variant, opts, maxLen] of [['pre-fix', {}, 12], ['fixed', { maxFaults: 1 }, 16]] as const) {
      const counts = new Map<string, number>();
      let valid = 0;
      for (let len = 1; len <= maxLen; len++) {
        for (let bits = 0; bits < 1 << len; bits++) {
          let schedule = '';
          for (let i = 0; i < len; i++) schedule += (bits >> i) & 1 ? 'B' : 'A';
          let outcome: Outcome;
          try { outcome = replay(variant, schedule, opts).outcome; } catch { continue; }
          valid++;
          counts.set(outcomeKey(outcome), (counts.get(outcomeKey(outcome)) ?? 0) + 1);
        }
      }
      const e = explore(variant, opts);
      assert.equal(valid, e.interleavings, variant);
      assert.deepEqual(counts, byOutcome(variant, opts), variant);
    }
  });

  it('the fault bound hides no outcome; the fixed loop re-faults without end if B keeps winning', () => {
    for (const v of ['pre-fix', 'fixed'] as const) {
      const bounded = new Set(explore(v).outcomes.map((g) => outcomeKey(g.outcome)));
      assert.deepEqual([...reachableOutcomes(v).outcomes].sort(), [...bounded].sort(), v);
    }
    // pre-fix never re-faults: the bound changes nothing. Fixed: each extra fault allowed adds
    // interleavings (B re-scratches, A clears and flushes again).
    assert.equal(explore('pre-fix', { maxFaults: 1 }).interleavings, explore('pre-fix', { maxFaults: 3 }).interleavings);
    assert.equal(explore('fixed', { maxFaults: 3 }).interleavings, 2142);
    assert.ok(explore('fixed', { maxFaults: 3 }).outcomes.every((g) => g.faults.max <= 3));
  });

  it('ablation: an asynchronous flush would let the fixed install leave a stale translation', () => {
    const e = explore('fixed', { flush: 'async' });
    assert.ok(e.outcomes.some((g) => g.outcome.loadStale));
    assert.ok(e.outcomes.every((g) => !g.outcome.allocFailed && g.outcome.finalPte === 'real'));
  });

  it('x86-64: flush_tlb_before_set is empty, so after the fix a cached scratch translation outlives the allocation', () => {
    const x86 = explore('fixed', { arch: 'x86_64' });
    const stale = x86.outcomes.filter((g) => g.outcome.loadStale);
    assert.ok(stale.length > 0);
    // Still never a failed allocation or a scratch PTE left behind: only the TLB is stale.
    assert.ok(x86.outcomes.every((g) => !g.outcome.allocFailed && g.outcome.finalPte === 'real'));
    assert.ok(stale[0].example.trace.includes('A.flush: flush_tlb_before_set (empty on x86-64: no flush)'));
    assert.ok(explore('fixed', { arch: 'arm64' }).outcomes.every((g) => !g.outcome.loadStale));
    assert.deepEqual(replay('fixed', stale[0].example.schedule, { arch: 'x86_64' }).outcome, stale[0].outcome);
  });

  it('report: table text and JSON', () => {
    const results = raceLab();
    const text = formatRaceLab(results);
    assert.match(text, /== pre-fix on arm64: .*8496d902/);
    assert.match(text, /249 interleavings explored exhaustively, 3 distinct outcomes/);
    assert.match(text, /702 interleavings explored exhaustively, 2 distinct outcomes/);
    assert.match(text, /BAD: allocation failed \(NULL\)/);
    assert.match(text, /schedule AAABBBAABBBB/);
    const json = results.map(explorationJson);
    assert.deepEqual(json.map((j) => [j.variant, j.interleavings, j.distinctOutcomes]), [['pre-fix', 249, 3], ['fixed', 702, 2]]);
    assert.equal(json[0].outcomes.reduce((n, o) => n + o.count, 0), 249);
    assert.ok(json[1].outcomes.every((o) => !o.bad));
    assert.deepEqual(replay('pre-fix', json[0].outcomes[0].example.schedule).trace, json[0].outcomes[0].example.trace);
  });

  it('bpfrun race-lab', () => {
    const run = (args: string[]) => bpfrun(['race-lab', ...args]);
    const both = run([]);
    assert.equal(both.status, 0, both.stderr);
    assert.match(both.stdout, /== pre-fix/);
    assert.match(both.stdout, /== fixed/);
    assert.match(both.stdout, /== fixed on x86_64/);
    const fixed = run(['--variant', 'fixed', '--json']);
    assert.equal(fixed.status, 0, fixed.stderr);
    const parsed = JSON.parse(fixed.stdout) as { variant: string; interleavings: number; options: { arch: string } }[];
    assert.deepEqual(parsed.map((p) => [p.variant, p.options.arch, p.interleavings]), [['fixed', 'x86_64', 2079], ['fixed', 'arm64', 702]]);
    const arm = JSON.parse(run(['--variant', 'fixed', '--arch', 'arm64', '--json']).stdout) as unknown[];
    assert.equal(arm.length, 1);
    const bad = run(['--variant', 'nope']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--variant must be pre-fix, fixed or both/);
    assert.match(run(['--arch', 'mips']).stderr, /--arch must be x86_64, arm64 or both/);
  });
});
