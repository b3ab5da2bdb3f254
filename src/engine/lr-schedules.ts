import { invalid } from './errors.js';
import type { ScheduleSpec, ScheduleState } from './types.js';

type Spec<T extends ScheduleSpec['type']> = Extract<ScheduleSpec, { type: T }>;

/** The rate of epoch e (0-based) for the schedules that depend on the epoch alone, from the initial rate lr0. */
const byEpoch = {
  step: (s: Spec<'step'>, lr0: number, e: number) => lr0 * s.factor ** Math.floor(e / s.every),
  exponential: (s: Spec<'exponential'>, lr0: number, e: number) => lr0 * s.rate ** e,
  cosine: (s: Spec<'cosine'>, lr0: number, e: number) => {
    const warmup = s.warmupEpochs ?? 0;
    if (e < warmup) return (lr0 * (e + 1)) / warmup;
    const progress = Math.min(e - warmup, s.decayEpochs) / s.decayEpochs;
    const floor = s.minFactor ?? 0;
    return lr0 * (floor + ((1 - floor) * (1 + Math.cos(Math.PI * progress))) / 2);
  },
};

const SCHEDULE_TYPES = ['step', 'exponential', 'cosine', 'plateau'];

/**
 * The learning rate of every epoch. step, exponential and cosine are functions of the epoch; plateau (Keras'
 * ReduceLROnPlateau without cooldown) reacts to the monitored loss, so its state travels in the checkpoint.
 */
export class LearningRateSchedule {
  /** The plateau schedule's rate, best loss and wait; null for the other schedules. */
  state: ScheduleState | null;

  constructor(
    private readonly spec: ScheduleSpec | undefined,
    private readonly initial: number,
  ) {
    if (spec !== undefined) validateSchedule(spec);
    this.state = spec?.type === 'plateau' ? { rate: initial, best: null, wait: 0 } : null;
  }

  /** The rate of the epoch about to run, `epoch` epochs having completed. */
  rateFor(epoch: number): number {
    const s = this.spec;
    if (s === undefined) return this.initial;
    if (s.type === 'plateau') return this.state!.rate;
    if (s.type === 'step') return byEpoch.step(s, this.initial, epoch);
    if (s.type === 'exponential') return byEpoch.exponential(s, this.initial, epoch);
    return byEpoch.cosine(s, this.initial, epoch);
  }

  /** After an epoch: the plateau schedule compares the monitored loss with its best and cuts the rate after `patience`. */
  observe(loss: number): void {
    const s = this.spec;
    const state = this.state;
    if (s?.type !== 'plateau' || state === null) return;
    if (state.best === null || loss < state.best - (s.minDelta ?? 0)) {
      state.best = loss;
      state.wait = 0;
      return;
    }
    state.wait++;
    if (state.wait < s.patience) return;
    state.rate = Math.max(state.rate * s.factor, s.minRate ?? 0);
    state.wait = 0;
  }
}

function validateSchedule(s: ScheduleSpec): void {
  const field = 'schedule';
  if (s === null || typeof s !== 'object') throw invalid(field, 'an object with a type');
  if (!SCHEDULE_TYPES.includes(s.type)) throw invalid(`${field}.type`, `one of ${SCHEDULE_TYPES.map((t) => `"${t}"`).join(', ')}`, s.type);
  const count = (name: string, value: unknown, min: number) => {
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= 1_000_000)) {
      throw invalid(`${field}.${name}`, `an integer between ${min} and 1000000`, value);
    }
  };
  const fraction = (name: string, value: unknown, closedAtOne: boolean) => {
    if (!(typeof value === 'number' && value > 0 && (closedAtOne ? value <= 1 : value < 1))) {
      throw invalid(`${field}.${name}`, `a number in (0, 1${closedAtOne ? ']' : ')'}`, value);
    }
  };
  const nonNegative = (name: string, value: unknown, max = Infinity) => {
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= max && Number.isFinite(value))) {
      throw invalid(`${field}.${name}`, max === 1 ? 'a number in [0, 1]' : 'a finite number >= 0', value);
    }
  };
  if (s.type === 'step') {
    count('every', s.every, 1);
    fraction('factor', s.factor, true);
  } else if (s.type === 'exponential') {
    fraction('rate', s.rate, true);
  } else if (s.type === 'cosine') {
    count('decayEpochs', s.decayEpochs, 1);
    if (s.warmupEpochs !== undefined) count('warmupEpochs', s.warmupEpochs, 0);
    nonNegative('minFactor', s.minFactor, 1);
  } else {
    count('patience', s.patience, 1);
    fraction('factor', s.factor, false);
    nonNegative('minDelta', s.minDelta);
    nonNegative('minRate', s.minRate);
  }
}
