// Which rate-limit budget a request spends, and how large it is. Predictions have a budget of their own, much larger
// than the one every other /v1 route shares: a prediction endpoint is meant to be called at a service's pace, while
// uploads and training jobs are not. A tenant's budgets are the configured defaults unless the admin set its own.
import type { FastifyRequest } from 'fastify';
import type { TenantRateLimits } from '../contracts/tenants.js';
import type { KeyOwner, TenantBudgets } from '../db/tenants.js';

export interface RateLimitDefaults {
  requests: number;
  predictions: number;
  windowMs: number;
}

export type BudgetName = 'requests' | 'predictions';

/** Routes that spend the predictions budget, as "METHOD url" (the route's declared URL, not the request's path). */
const PREDICTION_ROUTES = new Set(['POST /v1/models/:id/predict', 'POST /v1/registry/:name/predict']);

export const budgetOf = (request: FastifyRequest): BudgetName =>
  PREDICTION_ROUTES.has(`${request.method} ${request.routeOptions.url}`) ? 'predictions' : 'requests';

/** A tenant's budgets as they apply: its own where set, else the defaults. */
export function effectiveLimits(own: TenantBudgets, defaults: RateLimitDefaults): TenantRateLimits {
  const budget = (value: number | null, fallback: number) => ({ limit: value ?? fallback, custom: value !== null });
  return { windowMs: defaults.windowMs, requests: budget(own.requests, defaults.requests), predictions: budget(own.predictions, defaults.predictions) };
}

/**
 * Who is counted, under which budget, and the budget's size. A live key counts for its tenant (all its keys
 * together), the admin key for itself; a request with an unknown (or revoked) key, or without one, by its address,
 * with the defaults: counted by the key instead, a new random token per request would get a fresh budget each time.
 */
export function rateLimitSubject(
  request: FastifyRequest,
  owner: KeyOwner | null,
  admin: boolean,
  defaults: RateLimitDefaults,
): { budget: BudgetName; key: string; max: number } {
  const budget = budgetOf(request);
  const who = owner ? `tenant:${owner.tenantId}` : admin ? 'admin' : `ip:${request.ip}`;
  return { budget, key: `${budget}:${who}`, max: owner?.budgets[budget] ?? defaults[budget] };
}
