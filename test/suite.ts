// Where the shared reference material lives: ../shared beside the project root, or $BPFRUN_SHARED.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file runs from dist/test/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = process.env.BPFRUN_SHARED ?? join(PROJECT_ROOT, '..', 'shared');
export const SUITE_DIR = join(SHARED_DIR, 'conformance');
