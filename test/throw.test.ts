// bpf_throw with the default exception callback (it returns the cookie); programs naming their
// own callback are refused at load.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES } from '../src/engines.js';
import { LoadError } from '../src/errors.js';
import { loadObject, openObject } from '../src/object.js';
import { PROJECT_ROOT } from './suite.js';

const THROW = join(PROJECT_ROOT, 'progs', 'throw.bpf.o');

for (const engine of ENGINES) {
  describe(`bpf_throw [${engine}]`, () => {
    it('unwinds every frame: the program returns the cookie and nothing after the throw runs', () => {
      const obj = loadObject(THROW, { engine });
      assert.equal(obj.program('throw_deep').run().retval, 7n);
      assert.equal(obj.global('after_throw').value, 0n);
      assert.equal(obj.program('no_throw').run().retval, 1n);
      assert.equal(obj.global('after_throw').value, 1n);
    });
  });
}

describe('bpf_throw: exception callbacks', () => {
  it('a program naming its own callback is refused at load, naming it', () => {
    const opened = openObject(THROW);
    opened.setAutoload('own_callback', true);
    assert.throws(() => opened.load(), (e: unknown) => e instanceof LoadError
      && /program own_callback: its exception callback my_cb is not supported by bpfrun/.test(e.message));
  });
});
