/**
 * The forward dataflow the load-time pointer rules share (func-ptr.ts, ctx-ptr.ts): a state of
 * int32 words before each slot, where a word keeps its value only if every path to the slot
 * agrees on it (else it becomes NONE), solved with a worklist.
 */

/** A word no path agrees on (or that holds nothing tracked). */
export const NONE = 0x7fffffff;

/**
 * The state before each slot reachable from `seeds`; `step` applies a slot's instruction to a
 * copy of its state and returns where control goes, each with its state.
 */
export function forwardFlow(slotCount: number, seeds: ReadonlyArray<readonly [number, Int32Array]>,
  step: (slot: number, state: Int32Array) => ReadonlyArray<readonly [number, Int32Array]>): Array<Int32Array | undefined> {
  const before: Array<Int32Array | undefined> = new Array(slotCount);
  const work: number[] = [];
  const flow = (slot: number, state: Int32Array) => {
    const known = before[slot];
    if (known === undefined) {
      before[slot] = state.slice();
      work.push(slot);
      return;
    }
    let changed = false;
    for (let k = 0; k < known.length; k++) {
      if (known[k] !== NONE && known[k] !== state[k]) { known[k] = NONE; changed = true; }
    }
    if (changed) work.push(slot);
  };
  for (const [slot, state] of seeds) flow(slot, state);
  while (work.length > 0) {
    const slot = work.pop()!;
    for (const [to, out] of step(slot, before[slot]!.slice())) flow(to, out);
  }
  return before;
}
