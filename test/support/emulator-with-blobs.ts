// A test file's rollout rig against the emulator, registered as node:test hooks: one Temporal dev server, one
// emulator (its workspace blob store, Azurite, starts lazily with the first deployment that collects data)
// and one workflow bundle, made before the file's tests and closed after them.
import { after, before } from 'node:test';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities/create-activities.js';
import { emulatorCredential, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import { armClient, startTestEmulator } from '../emulator/support.js';
import { createDevEnv, workflowBundle } from './temporal.js';

/** What a test file rolls out with; its fields are set once the file's `before` hook has run. */
export interface EmulatorRig {
  env: TestWorkflowEnvironment;
  emu: Emulator;
  /** The unmodified ARM client, pointed at the emulator. */
  arm: AzureMachineLearningWorkspaces;
  bundle: WorkflowBundleWithSourceMap;
  /** A worker on `taskQueue` running the bundle with the real activities against the emulator. */
  worker(taskQueue: string): Promise<Worker>;
}

/** Registers the file's before/after hooks and returns the rig they fill in. */
export function useEmulatorWithBlobs(options: EmulatorOptions = {}): EmulatorRig {
  const rig = {
    worker: (taskQueue: string) =>
      Worker.create({
        connection: rig.env.nativeConnection,
        taskQueue,
        workflowBundle: rig.bundle,
        activities: createActivities({ azure: { cloud: 'emulator', url: rig.emu.url, caCertPem: rig.emu.caCertPem, credential: emulatorCredential() }, pollIntervalMs: 200 }),
      }),
  } as EmulatorRig;
  before(async () => {
    [rig.env, rig.emu, rig.bundle] = await Promise.all([createDevEnv(), startTestEmulator(options), workflowBundle()]);
    rig.arm = armClient(rig.emu);
  });
  after(async () => {
    // Fields are unset when `before` failed part way.
    const { env, emu } = rig as Partial<EmulatorRig>;
    await Promise.all([env?.teardown(), emu?.close()]);
  });
  return rig;
}
