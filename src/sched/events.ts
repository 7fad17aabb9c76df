/**
 * The host's event queue: discrete events ordered by (time, sequence), so events at one instant
 * run in the order they were posted (sched-ext.md §7.4). A binary heap.
 */

export type SimEvent =
  | { readonly kind: 'tick' }
  | { readonly kind: 'burst'; readonly cpu: number; readonly gen: number }
  | { readonly kind: 'wake'; readonly pid: number }
  | { readonly kind: 'fork'; readonly pid: number }
  | { readonly kind: 'watchdog' }
  | { readonly kind: 'hotplug'; readonly cpu: number; readonly online: boolean };

interface Entry { readonly time: number; readonly seq: number; readonly event: SimEvent }

export class EventQueue {
  private readonly heap: Entry[] = [];
  private seq = 0;

  get size(): number { return this.heap.length; }

  push(time: number, event: SimEvent): void {
    const h = this.heap;
    h.push({ time, seq: this.seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  peekTime(): number | undefined { return this.heap[0]?.time; }

  pop(): { time: number; event: SimEvent } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
