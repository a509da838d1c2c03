import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_GATES, DEFAULT_STRATEGY, formatPlanIssue, parsePlan, type PlanDocument } from '../../domain/plan.js';
import { INSTANT_INGESTION_DELAYS, timingWarnings } from '../../domain/telemetry-timing.js';
import { aMinimalPlanDocument, aPlanDocument, type ExamplePlan } from '../support/builders.js';

/** A Log Analytics workspace id. */
const LA = '7f1c0a43-5d2e-4b8e-9a51-3c2d1e0f9a77';

const example = (name: string): unknown => parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));

describe('the shipped example plans', () => {
  test('examples/rollout.yaml is valid and reads as the issue describes it', () => {
    const r = parsePlan(example('rollout.yaml'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    const p = r.plan;
    assert.equal(p.baseline, 'blue');
    assert.deepEqual(
      p.strategy.map((s) => s.kind),
      ['mirror', 'costCheck', 'approval', 'canary', 'canary', 'promote', 'retire'],
    );
    assert.deepEqual(p.strategy[0], { kind: 'mirror', percent: 20, bakeMs: 30 * 60_000 });
    assert.deepEqual(p.strategy[2], { kind: 'approval', timeoutMs: 24 * 3_600_000, onTimeout: 'rollback' });
    assert.deepEqual(p.strategy[4], { kind: 'canary', percent: 50, bakeMs: 30 * 60_000, approval: { timeoutMs: 86_400_000, onTimeout: 'rollback' } });
    assert.deepEqual(p.strategy[5], { kind: 'promote', rollbackWindowMs: 3_600_000 });
    assert.equal(p.analysis.intervalMs, 60_000);
    assert.equal(p.gates.webhook?.timeoutMs, 30_000);
    assert.equal(p.deadlineMs, 72 * 3_600_000);
  });

  test('examples/rollout.yaml is the same plan the test builders use, but for requiring signed decisions and using the judge', () => {
    // The builders test other behaviour with unsigned decisions (verified: false) and no person mapping; test/security covers those.
    // They keep fixed-threshold gates (the rules before the judge, still supported); the example shows judged gates.
    const example_ = aPlanDocument((d) => {
      d.approvals.verified = true;
      d.approvals.people = { 'alice@contoso.com': ['github:alice', 'slack:U024BE7LH'] };
      d.analysis.falseAlarmBudget = 0.01;
      d.strategy[3].canary.bake = { min: '5m', max: '15m' };
      d.gates.latencyP99Ms = { max: 250, tolerance: 1.25 };
      d.gates.latencyP50Ms = { max: 80, tolerance: 1.1 };
      d.gates.errorRate = { max: 0.05, tolerance: '1.25x + 0.1%', passTolerance: '1.1x + 0.1%' };
      d.gates.modelErrorRate = { max: 0.01, tolerance: '1.25x + 0.1%' };
    });
    assert.deepEqual(example('rollout.yaml'), example_);
  });

  test('a minimal plan with an empty strategy gets the safe default strategy and default gates', () => {
    const r = parsePlan(example('minimal.yaml'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.deepEqual(r.plan.strategy, DEFAULT_STRATEGY);
    assert.deepEqual(
      r.plan.strategy.map((s) => s.kind),
      ['mirror', 'approval', 'canary', 'canary', 'promote', 'retire'],
    );
    assert.deepEqual(r.plan.gates, {
      latencyP50Ms: { tolerance: 1.1 },
      latencyP99Ms: { tolerance: 1.25 },
      errorRate: { tolerance: { ratio: 1.25, additive: 0.001 } },
      modelErrorRate: { tolerance: { ratio: 1.25, additive: 0.001 } },
    });
    assert.equal(Object.keys(DEFAULT_GATES).length, 4);
    assert.deepEqual(r.plan.analysis, { intervalMs: 60_000, failureLimit: 2, minRequests: 100, onInconclusive: 'extend', maxExtensions: 3 });
    assert.deepEqual(r.plan.approvals, { approvers: [], anyone: true, fourEyes: true, verified: false, people: {} });
    assert.deepEqual(r.plan.rollback, { deleteCandidate: false });
    assert.equal(r.plan.deadlineMs, 72 * 3_600_000);
    assert.equal(r.plan.baseline, undefined);
  });

  test('judged gates: tolerances are normalised, guardrails stay, the budget and a bake { min, max } are read', () => {
    const r = parsePlan(aMinimalPlanDocument((d) => {
      d.analysis = { falseAlarmBudget: 0.05 };
      d.gates = { errorRate: { max: 0.05, tolerance: '1.5x + 0.2%', passTolerance: '1.2x + 0.1%' }, latencyP99Ms: { maxRatioToBaseline: 3, tolerance: '1.2x' } };
      d.strategy = [{ canary: { percent: 10, bake: { min: '5m', max: '30m' } } }, { canary: { percent: 50, bake: '15m' } }, { promote: {} }];
    }));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal(r.plan.analysis.falseAlarmBudget, 0.05);
    assert.deepEqual(r.plan.gates.errorRate, { max: 0.05, tolerance: { ratio: 1.5, additive: 0.002 }, passTolerance: { ratio: 1.2, additive: 0.001 } });
    assert.deepEqual(r.plan.gates.latencyP99Ms, { maxRatioToBaseline: 3, tolerance: 1.2 });
    assert.deepEqual(r.plan.strategy[0], { kind: 'canary', percent: 10, bakeMs: 30 * 60_000, bakeMinMs: 5 * 60_000 });
    assert.deepEqual(r.plan.strategy[1], { kind: 'canary', percent: 50, bakeMs: 15 * 60_000 }, 'a plain bake has no min: no early pass');
  });

  test('a plan without a strategy key also gets the default strategy', () => {
    const r = parsePlan(aMinimalPlanDocument((d) => delete d.strategy));
    assert.ok(r.ok);
    assert.equal(r.plan.strategy.length, DEFAULT_STRATEGY.length);
  });

  test('durations accept ms, s, m, h and d', () => {
    const r = parsePlan(
      aPlanDocument((d) => {
        d.strategy[0] = { mirror: { percent: 5, bake: '45s' } };
        d.strategy[2] = { approval: { timeout: '2d', onTimeout: 'pause' } };
        d.analysis.interval = '1500ms';
      }),
    );
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal((r.plan.strategy[0] as { bakeMs: number }).bakeMs, 45_000);
    assert.equal((r.plan.strategy[2] as { timeoutMs: number }).timeoutMs, 2 * 86_400_000);
    assert.equal(r.plan.analysis.intervalMs, 1500);
  });

  test('canary approval may be true (defaults) or spell out its timeout and policy', () => {
    const r = parsePlan(aPlanDocument((d) => (d.strategy[3] = { canary: { percent: 10, bake: '15m', approval: { timeout: '2h', onTimeout: 'proceed' } } })));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.deepEqual(r.plan.strategy[3], { kind: 'canary', percent: 10, bakeMs: 900_000, approval: { timeoutMs: 7_200_000, onTimeout: 'proceed' } });
  });
});

/** [what is wrong, how to break the example plan, the path the error must name, the message it must contain] */
const invalid: [string, (d: ExamplePlan) => void, string, RegExp][] = [
  ['canary percent 0', (d) => (d.strategy[3].canary.percent = 0), 'strategy[3].canary.percent', /must be 1\.\.100/],
  ['canary percent 150', (d) => (d.strategy[4].canary.percent = 150), 'strategy[4].canary.percent', /must be 1\.\.100/],
  ['canary percent 12.5', (d) => (d.strategy[3].canary.percent = 12.5), 'strategy[3].canary.percent', /integer/],
  ['mirror above 50%', (d) => (d.strategy[0].mirror.percent = 60), 'strategy[0].mirror.percent', /must be 1\.\.50/],
  ['a duration without a unit', (d) => (d.strategy[0].mirror.bake = '30'), 'strategy[0].mirror.bake', /duration like 45s, 30m or 24h/],
  ['a duration in words', (d) => (d.strategy[3].canary.bake = '15 minutes'), 'strategy[3].canary.bake', /duration/],
  ['an unknown step kind', (d) => (d.strategy[1] = { bluegreen: {} }), 'strategy[1].bluegreen', /unknown key/],
  ['a step with two kinds', (d) => (d.strategy[1] = { costCheck: { maxMonthlyUsd: 1 }, approval: {} }), 'strategy[1]', /exactly one step kind, got costCheck and approval/],
  ['an unknown onTimeout', (d) => (d.strategy[2].approval.onTimeout = 'ignore'), 'strategy[2].approval.onTimeout', /rollback, pause or proceed/],
  ['a misspelt deployment key', (d) => { d.candidate.deployment.instance_typ = 'x'; }, 'candidate.deployment.instance_typ', /unknown key \(did you mean 'instance_type'\?\)/],
  ['an unknown top-level key', (d) => (d.strategey = []), 'strategey', /unknown key \(did you mean 'strategy'\?\)/],
  ['a missing candidate', (d) => delete d.candidate, 'candidate', /is required/],
  ['a missing model', (d) => delete d.candidate.deployment.model, 'candidate.deployment.model', /is required/],
  ['instance_count 0', (d) => (d.candidate.deployment.instance_count = 0), 'candidate.deployment.instance_count', /must be 1\.\.50/],
  ['a bad endpoint name', (d) => (d.target.endpoint = '9-lives'), 'target.endpoint', /starting with a letter/],
  ['a bad subscription id', (d) => (d.target.subscriptionId = 'prod'), 'target.subscriptionId', /subscription GUID/],
  ['the wrong apiVersion', (d) => (d.apiVersion = 'glidepath/v2'), 'apiVersion', /glidepath\/v1/],
  ['an error rate above 1', (d) => (d.gates.errorRate.max = 5), 'gates.errorRate.max', /0\.\.1/],
  ['a latency gate without limits', (d) => (d.gates.latencyP50Ms = {}), 'gates.latencyP50Ms', /needs max, maxRatioToBaseline or tolerance/],
  ['a latency tolerance below 1×', (d) => (d.gates.latencyP99Ms = { tolerance: 0.9 }), 'gates.latencyP99Ms.tolerance', /ratio must be at least 1×/],
  ['a latency tolerance as an increase', (d) => (d.gates.latencyP99Ms = { tolerance: '+5%' }), 'gates.latencyP99Ms.tolerance', /slowdown ratio ≥ 1 such as 1\.10/],
  ['an error tolerance below 1×', (d) => (d.gates.errorRate = { tolerance: '0.5x' }), 'gates.errorRate.tolerance', /ratio must be at least 1×/],
  ['an error tolerance in words', (d) => (d.gates.errorRate = { tolerance: 'a bit' }), 'gates.errorRate.tolerance', /must be a ratio like "1\.5x"/],
  ['an error gate with nothing to judge by', (d) => (d.gates.errorRate = {}), 'gates.errorRate', /needs max, maxIncrease or tolerance/],
  ['a pass tolerance above the tolerance', (d) => (d.gates.errorRate = { tolerance: '1.5x', passTolerance: '2x' }), 'gates.errorRate.passTolerance', /must be at most the tolerance 1\.5× \(got 2×\)/],
  ['a pass tolerance without a tolerance', (d) => (d.gates.modelErrorRate = { max: 0.01, passTolerance: '1.2x' }), 'gates.modelErrorRate.passTolerance', /needs a tolerance on the same gate/],
  ['a false-alarm budget of 0', (d) => (d.analysis.falseAlarmBudget = 0), 'analysis.falseAlarmBudget', /greater than 0 and at most 0\.5/],
  ['a false-alarm budget above 0.5', (d) => (d.analysis.falseAlarmBudget = 0.6), 'analysis.falseAlarmBudget', /at most 0\.5/],
  ['a bake min above its max', (d) => (d.strategy[3].canary.bake = { min: '30m', max: '15m' }), 'strategy[3].canary.bake.min', /must be at most bake\.max \(15m\): allowed 1s\.\.15m \(got 30m\)/],
  ['a bake min without a max', (d) => (d.strategy[0].mirror.bake = { min: '5m' }), 'strategy[0].mirror.bake.max', /is required/],
  ['a bake min that is no duration', (d) => (d.strategy[0].mirror.bake = { min: '5', max: '10m' }), 'strategy[0].mirror.bake.min', /duration like 45s/],
  ['a webhook over http', (d) => (d.gates.webhook.url = 'http://eval.example.com/check'), 'gates.webhook.url', /https URL/],
  ['a webhook with a secret in the URL', (d) => (d.gates.webhook.url = 'https://eval.example.com/check?code=abc'), 'gates.webhook.url', /must not carry a secret/],
  ['an env var that looks like a secret', (d) => (d.candidate.deployment.environment_variables.DB_PASSWORD = 'hunter2'), 'candidate.deployment.environment_variables.DB_PASSWORD', /looks like a secret/],
  ['an approver that is neither e-mail nor slack id', (d) => (d.approvals.approvers = ['alice']), 'approvals.approvers[0]', /e-mail address, slack:<user id>, github:<login>/],
  ['falling canary percentages', (d) => (d.strategy[4].canary.percent = 5), 'strategy[4].canary.percent', /greater than the previous canary's 10/],
  ['a canary at 100%', (d) => (d.strategy[4].canary.percent = 100), 'strategy[4].canary.percent', /use a promote step for 100%/],
  ['retire before promote', (d) => ([d.strategy[5], d.strategy[6]] = [d.strategy[6], d.strategy[5]]), 'strategy[5].retire', /must come after a promote step/],
  ['a mirror after a canary', (d) => d.strategy.splice(4, 0, { mirror: { percent: 10, bake: '5m' } }), 'strategy[4].mirror', /must come before every canary/],
  ['no promote step', (d) => d.strategy.splice(5, 2), 'strategy', /must end the rollout with a promote step/],
  ['baseline equal to candidate', (d) => (d.baseline = 'green'), 'baseline', /must differ from candidate\.name/],
  ['onInconclusive unknown', (d) => (d.analysis.onInconclusive = 'ignore'), 'analysis.onInconclusive', /extend, pause or rollback/],
  ['failureLimit 0', (d) => (d.analysis.failureLimit = 0), 'analysis.failureLimit', /must be 1\.\.100/],
  ['a cost check without limits', (d) => (d.strategy[1] = { costCheck: {} }), 'strategy[1].costCheck', /needs at least one of/],
  ['a deadline under a minute', (d) => (d.deadline = '30s'), 'deadline', /at least 60s/],
  ['an approval timeout of 200000000d (once wedged the workflow with RangeError)', (d) => (d.strategy[2].approval.timeout = '200000000d'), 'strategy[2].approval.timeout', /at most 365d/],
  ['a bake of 10^30 days', (d) => (d.strategy[0].mirror.bake = `1${'0'.repeat(30)}d`), 'strategy[0].mirror.bake', /at most 365d/],
  ['a deadline over a year', (d) => (d.deadline = '366d'), 'deadline', /at most 365d/],
  ['an analysis interval over a year', (d) => (d.analysis.interval = '8761h'), 'analysis.interval', /at most 365d/],
  ['request timeout above Azure\'s cap', (d) => (d.candidate.deployment.request_settings.request_timeout_ms = 600_000), 'candidate.deployment.request_settings.request_timeout_ms', /180 s/],
  ['a Slack channel name instead of id', (d) => (d.notify.slack.channel = '#ml-rollouts'), 'notify.slack.channel', /Slack channel id/],
  ['strategy as a map', (d) => (d.strategy = { mirror: { percent: 10, bake: '1m' } }), 'strategy', /list of steps/],
  ['a Log Analytics workspace by name', (d) => (d.analysis.logs = { workspaceId: 'la-prod' }), 'analysis.logs.workspaceId', /Log Analytics workspace id \(a GUID\)/],
  ['logs without a workspace', (d) => (d.analysis.logs = { where: 'ResponseCode == 200' }), 'analysis.logs.workspaceId', /is required/],
  ['a logs filter that pipes on', (d) => (d.analysis.logs = { workspaceId: LA, where: 'true | project XRequestId' }), 'analysis.logs.where', /one predicate: no '\|'/],
  ['a logs filter with a second statement', (d) => (d.analysis.logs = { workspaceId: LA, where: 'true; AmlOnlineEndpointTrafficLog' }), 'analysis.logs.where', /no '\|', ';'/],
  ['a logs filter that comments out the rest', (d) => (d.analysis.logs = { workspaceId: LA, where: 'true //' }), 'analysis.logs.where', /'\/\/'/],
  ['a logs filter over two lines', (d) => (d.analysis.logs = { workspaceId: LA, where: 'true\nor false' }), 'analysis.logs.where', /one line/],
  ['a logs filter with an open parenthesis', (d) => (d.analysis.logs = { workspaceId: LA, where: '(ResponseCode == 200' }), 'analysis.logs.where', /balanced/],
  ['a logs filter with an unclosed string', (d) => (d.analysis.logs = { workspaceId: LA, where: 'UserAgent has "probe' }), 'analysis.logs.where', /balanced/],
  ['a logs filter of 1001 characters', (d) => (d.analysis.logs = { workspaceId: LA, where: `ResponseCode == 200${' '.repeat(982)}` }), 'analysis.logs.where', /at most 1000 characters/],
  ['an empty logs filter', (d) => (d.analysis.logs = { workspaceId: LA, where: '' }), 'analysis.logs.where', /must not be empty/],
  ['an exceedance latency of 0', (d) => (d.analysis.logs = { workspaceId: LA, exceedanceMs: [0] }), 'analysis.logs.exceedanceMs[0]', /at least 1 ms/],
  ['six exceedance latencies', (d) => (d.analysis.logs = { workspaceId: LA, exceedanceMs: [1, 2, 3, 4, 5, 6] }), 'analysis.logs.exceedanceMs', /at most 5/],
  ['an unknown logs field', (d) => (d.analysis.logs = { workspaceId: LA, table: 'AmlOnlineEndpointConsoleLog' }), 'analysis.logs.table', /unknown key \(known keys: workspaceId, where, exceedanceMs\)/],
];

describe('analysis.logs: reading the Log Analytics traffic log', () => {
  test('a workspace, a filter and exceedance latencies parse; latencies are sorted and deduplicated; no logs by default', () => {
    const r = parsePlan(aPlanDocument((d) => (d.analysis.logs = { workspaceId: LA, where: 'UserAgent !has "probe" and (ResponseCode != 401)', exceedanceMs: [250, 100, 250] })));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.deepEqual(r.plan.analysis.logs, { workspaceId: LA, where: 'UserAgent !has "probe" and (ResponseCode != 401)', exceedanceMs: [100, 250] });
    const plain = parsePlan(aPlanDocument());
    assert.ok(plain.ok);
    assert.equal(plain.plan.analysis.logs, undefined);
  });

  test('a filter may hold a pipe, semicolon or parenthesis inside a string only if it still has none outside — it is refused either way, with the rule', () => {
    const r = parsePlan(aPlanDocument((d) => (d.analysis.logs = { workspaceId: LA, where: 'UserAgent has "a|b"' })));
    assert.ok(!r.ok);
    assert.match(r.issues.map(formatPlanIssue).join('\n'), /analysis\.logs\.where: must be one predicate/);
    const ok = parsePlan(aPlanDocument((d) => (d.analysis.logs = { workspaceId: LA, where: 'UserAgent has "(x"' })));
    assert.ok(ok.ok, 'a parenthesis inside a string does not count');
  });
});

describe('timing warnings: what Azure Monitor can fill in time', () => {
  const plan = (patch: (d: ExamplePlan) => void) => {
    const r = parsePlan(aPlanDocument(patch));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    return r.plan;
  };

  test('the example plan has none, at Azure’s timing, with or without logs', () => {
    assert.deepEqual(timingWarnings(plan(() => {})), []);
    assert.deepEqual(timingWarnings(plan((d) => (d.analysis.logs = { workspaceId: LA }))), []);
  });

  test('an interval under the 1-minute grain is named', () => {
    const w = timingWarnings(plan((d) => (d.analysis.interval = '30s')));
    assert.deepEqual(w.map((x) => x.path), ['analysis.interval']);
    assert.match(w[0]!.message, /shorter than Azure Monitor's 1-minute metrics grain/);
  });

  test('a bake shorter than the delay plus one interval is named: 3m for metrics, 10m once logs are read', () => {
    const short = (d: ExamplePlan) => (d.strategy[3].canary.bake = '3m');
    assert.deepEqual(timingWarnings(plan(short)).map((x) => x.path), ['strategy[3].canary.bake']);
    assert.match(timingWarnings(plan(short))[0]!.message, /shorter than Azure's ingestion delay plus one analysis \(4m; metrics arrive about 3m late\)/);
    assert.deepEqual(timingWarnings(plan((d) => (d.strategy[3].canary.bake = '4m'))), [], '4m = 3m delay + 1m interval is enough for metrics');
    const withLogs = timingWarnings(plan((d) => ((d.strategy[3].canary.bake = '10m'), (d.analysis.logs = { workspaceId: LA }))));
    assert.deepEqual(withLogs.map((x) => x.path), ['strategy[3].canary.bake']);
    assert.match(withLogs[0]!.message, /the traffic log arrives up to 10m late/);
  });

  test('at the emulator’s instant timing nothing is too short', () => {
    assert.deepEqual(timingWarnings(plan((d) => ((d.strategy[3].canary.bake = '5s'), (d.analysis.interval = '2s'))), INSTANT_INGESTION_DELAYS).map((x) => x.path), ['analysis.interval']);
  });
});

describe('invalid plans are rejected with a message that names the path of the bad field', () => {
  for (const [what, breakIt, path, message] of invalid) {
    test(`${what} → ${path}`, () => {
      const r = parsePlan(aPlanDocument(breakIt));
      assert.equal(r.ok, false, 'the plan should be invalid');
      if (r.ok) return;
      const hit = r.issues.find((i) => i.path === path);
      assert.ok(hit, `no issue at ${path}; got ${r.issues.map(formatPlanIssue).join(' | ')}`);
      assert.match(hit.message, message);
      assert.match(formatPlanIssue(hit), new RegExp(`^${path.replace(/[[\].]/g, '\\$&')}: `));
    });
  }
  test(`there are at least 20 of them (${invalid.length})`, () => assert.ok(invalid.length >= 20));

  test('every problem is reported at once, not only the first', () => {
    const r = parsePlan(
      aPlanDocument((d) => {
        d.strategy[3].canary.percent = 0;
        d.target.endpoint = 'x';
        d.bogus = true;
      }),
    );
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.path).sort(), ['bogus', 'strategy[3].canary.percent', 'target.endpoint']);
  });

  test('a non-object document is refused at the root', () => {
    const r = parsePlan('apiVersion: glidepath/v1' as unknown as PlanDocument);
    assert.ok(!r.ok);
    assert.equal(r.issues[0]!.path, '(plan)');
  });
});

describe('the JSON Schema for editors', () => {
  test('examples/rollout.schema.json is generated from the current zod schema (run scripts/gen-plan-schema.ts)', async () => {
    const { planJsonSchemaText } = await import('../../scripts/gen-plan-schema.js');
    assert.equal(readFileSync(new URL('../../examples/rollout.schema.json', import.meta.url), 'utf8'), planJsonSchemaText());
  });

  test('it describes the plan as written: strict objects, duration strings, one key per step', async () => {
    const schema = JSON.parse(readFileSync(new URL('../../examples/rollout.schema.json', import.meta.url), 'utf8'));
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['apiVersion', 'kind', 'target', 'candidate']);
    const step = schema.properties.strategy.items;
    assert.deepEqual([step.minProperties, step.maxProperties], [1, 1]);
    const bake = step.properties.canary.properties.bake.anyOf;
    assert.equal(bake[0].pattern, '^(\\d+)(ms|s|m|h|d)$', 'a bake is a duration string…');
    assert.deepEqual(Object.keys(bake[1].properties), ['min', 'max'], '…or { min, max }');
    assert.deepEqual([step.properties.canary.properties.percent.minimum, step.properties.canary.properties.percent.maximum], [1, 100]);
  });
});
