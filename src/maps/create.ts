/** createMap under the name the object loader imports; the checks live in map.ts. */
export { createMap } from './map.js';
