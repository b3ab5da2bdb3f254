// A sweep's search space: paths into the base settings ("model.layers[0].units") and the values each may take.
// Pure: the configurations are drawn once, when the sweep is created, from the seed; the same request always
// gives the same trials.
import type { Domain, SweepStrategy } from '../contracts/sweeps.js';
import { Rng } from '../engine/index.js';

export type PathPart = string | number;
/** One trial's value per space path, in the space's order. */
export type Params = Record<string, unknown>;

const PART = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** "model.layers[0].units" -> ['model', 'layers', 0, 'units']; null when it is not such a path. */
export function parsePath(path: string): PathPart[] | null {
  const parts: PathPart[] = [];
  for (const segment of path.split('.')) {
    const m = PART.exec(segment);
    if (!m) return null;
    parts.push(m[1]);
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(index[1]));
  }
  return parts;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `parts` names a value present in `root` (an array index within its length, an object's own key). */
export function hasPath(root: unknown, parts: PathPart[]): boolean {
  let at = root;
  for (const part of parts) {
    if (typeof part === 'number' ? !Array.isArray(at) || part >= at.length : !isRecord(at) || !Object.hasOwn(at, part)) return false;
    at = (at as Record<PathPart, unknown>)[part];
  }
  return true;
}

/** A deep copy of `root` with the value at each path replaced (paths checked with hasPath). */
export function substitute<T>(root: T, params: Params): T {
  const copy = structuredClone(root);
  for (const [path, value] of Object.entries(params)) {
    const parts = parsePath(path)!;
    let at = copy as Record<PathPart, unknown>;
    for (const part of parts.slice(0, -1)) at = at[part] as Record<PathPart, unknown>;
    at[parts[parts.length - 1]] = structuredClone(value);
  }
  return copy;
}

/** The two ends of a range, or null for a choice. */
export function boundsOf(domain: Domain): [number, number] | null {
  if ('choice' in domain) return null;
  if ('uniform' in domain) return domain.uniform;
  if ('logUniform' in domain) return domain.logUniform;
  return domain.intRange;
}

/** What is wrong with a domain by itself (an empty choice, low >= high, ...), or null. */
export function domainProblem(domain: Domain, strategy: SweepStrategy): string | null {
  if ('choice' in domain) return domain.choice.length === 0 ? 'expected at least one choice, got an empty list' : null;
  if (strategy === 'grid') return 'grid takes choices only ({ "choice": [...] }); use random or halving for ranges';
  const [low, high] = boundsOf(domain)!;
  if (low >= high) return `expected low < high, got [${low}, ${high}]`;
  if ('logUniform' in domain && low <= 0) return `expected low > 0 for a log scale, got ${low}`;
  return null;
}

/** How many configurations the grid has (the product of the choice counts). */
export const gridSize = (space: Record<string, Domain>): number =>
  Object.values(space).reduce((n, d) => n * ('choice' in d ? d.choice.length : 1), 1);

/** Every combination of the choices, the first path varying slowest. */
export function gridPoints(space: Record<string, Domain>): Params[] {
  let points: Params[] = [{}];
  for (const [path, domain] of Object.entries(space)) {
    const choices = 'choice' in domain ? domain.choice : [];
    points = points.flatMap((p) => choices.map((value) => ({ ...p, [path]: value })));
  }
  return points;
}

function draw(domain: Domain, rng: Rng): unknown {
  if ('choice' in domain) return domain.choice[Math.floor(rng.next() * domain.choice.length)];
  if ('uniform' in domain) {
    const [low, high] = domain.uniform;
    return low + rng.next() * (high - low);
  }
  if ('logUniform' in domain) {
    const [low, high] = domain.logUniform;
    return Math.exp(Math.log(low) + rng.next() * (Math.log(high) - Math.log(low)));
  }
  const [low, high] = domain.intRange;
  return low + Math.floor(rng.next() * (high - low + 1));
}

/** `count` draws from the space, path by path in order, from the seed. */
export function randomPoints(space: Record<string, Domain>, count: number, seed: number): Params[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Object.fromEntries(Object.entries(space).map(([path, d]) => [path, draw(d, rng)])));
}
