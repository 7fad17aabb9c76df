// Assertions shared by the test files.
import assert from 'node:assert/strict';
import { LoadError } from '../src/errors.js';

/** Asserts that `f` throws a LoadError whose `where` and reason match. */
export function throwsLoad(f: () => unknown, where: string | RegExp, reason: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LoadError, `expected LoadError, got ${String(e)}`);
    if (typeof where === 'string') assert.equal(e.where, where);
    else assert.match(e.where, where);
    assert.match(e.reason, reason);
    return true;
  });
}
