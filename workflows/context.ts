/**
 * What the step runners split out of safe-rollout.ts (approval.ts, rollback.ts) share with it.
 * Types only; not exported from workflows/index.ts.
 */
import type { GetEndpointResult, NotificationKind } from '../activities/types.js';
import type { ApprovalNotice } from '../domain/approvals.js';
import type { RolloutPlan } from '../domain/plan.js';
import type { NotifyFields } from './notify.js';
import type { RolloutState } from './rollout-state.js';

/** The running rollout as its step runners see it. */
export interface RolloutContext {
  state: RolloutState;
  plan: RolloutPlan;
  endpoint: RolloutPlan['target'];
  notify(kind: NotificationKind, text: string, fields?: NotifyFields, approval?: ApprovalNotice): Promise<void>;
  /** Holds while paused (abort and the deadline still cancel the wait). */
  checkpoint(): Promise<void>;
}

/** What steps that read the endpoint and know the baseline (cost check, retire) need beyond that. */
export interface StepContext extends RolloutContext {
  readEndpoint(summary: string): Promise<GetEndpointResult>;
  /** The baseline deployment's name. */
  baseline: string;
}
