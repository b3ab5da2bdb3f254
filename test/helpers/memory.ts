// Measuring what a piece of work keeps in memory: garbage from before is collected first, so that what grows is the
// work's own.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** A full collection, then a turn of the event loop for freed array buffers to be counted as freed, then another. */
export async function collectGarbage(): Promise<void> {
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}
