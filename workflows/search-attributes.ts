/**
 * Glidepath's custom search attributes: what auditors filter rollouts by in the Temporal UI
 * (e.g. `GlidepathEndpoint = "fraud-detection" AND GlidepathOutcome = "rolled_back"`).
 * They must be registered on the namespace before a rollout starts: `glidepath setup` does it on any
 * namespace, the dev server at start with `--search-attribute` (see test/support/temporal.ts and the demo).
 * This module only defines keys: the workflow upserts stage and outcome; model, starter and workspace
 * are set once by the client at start (client/start-rollout.ts).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The endpoint's name (the resource id is the workflow id). */
export const GlidepathEndpoint = defineSearchAttributeKey('GlidepathEndpoint', SearchAttributeType.KEYWORD);
/** The candidate deployment's name. */
export const GlidepathCandidate = defineSearchAttributeKey('GlidepathCandidate', SearchAttributeType.KEYWORD);
/** The rollout's current stage (preflight, deploy, mirror, cost-check, approval, canary, promote, retire, rollback, done). */
export const GlidepathStage = defineSearchAttributeKey('GlidepathStage', SearchAttributeType.KEYWORD);
/** The outcome once finished (promoted, rolled_back, rejected, aborted, failed). */
export const GlidepathOutcome = defineSearchAttributeKey('GlidepathOutcome', SearchAttributeType.KEYWORD);

/** The candidate's model reference (e.g. `azureml:fraud-detector:7`); set by the client at start, never upserted. */
export const GlidepathModel = defineSearchAttributeKey('GlidepathModel', SearchAttributeType.KEYWORD);
/** Who started the rollout; set by the client at start, never upserted. */
export const GlidepathStartedBy = defineSearchAttributeKey('GlidepathStartedBy', SearchAttributeType.KEYWORD);
/** The Azure ML workspace of the endpoint; set by the client at start, never upserted. */
export const GlidepathWorkspace = defineSearchAttributeKey('GlidepathWorkspace', SearchAttributeType.KEYWORD);

/** Every Glidepath search attribute, for registration (`glidepath setup`, the demo's dev server, the tests). */
export const glidepathSearchAttributes = [GlidepathEndpoint, GlidepathCandidate, GlidepathStage, GlidepathOutcome, GlidepathModel, GlidepathStartedBy, GlidepathWorkspace];
