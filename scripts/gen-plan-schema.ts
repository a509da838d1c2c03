/**
 * Writes examples/rollout.schema.json: the JSON Schema of a rollout plan *as users write it* (the input
 * side of domain/plan.ts's zod schema), for editor completion and validation in YAML files
 * (`# yaml-language-server: $schema=./rollout.schema.json`).
 *
 *   node --import tsx scripts/gen-plan-schema.ts          # write it
 *   node --import tsx scripts/gen-plan-schema.ts --check  # exit 1 when the committed file is stale
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import { ManagedDeploymentSchema } from '../domain/deployment-spec.js';
import { PlanSchema } from '../domain/plan.js';

const out = new URL('../examples/rollout.schema.json', import.meta.url);

export function planJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  // Each strategy step is an object with exactly one key (the step kind); zod checks that in a refinement.
  const steps = (schema.properties as Record<string, { items?: Record<string, unknown> }>).strategy?.items;
  if (steps) Object.assign(steps, { minProperties: 1, maxProperties: 1 });
  // candidate.deployment checks Kubernetes-only keys before its keys (a pre-check zod cannot express in JSON
  // Schema): describe it by the managed deployment's keys.
  const candidate = (schema.properties as Record<string, { properties?: Record<string, unknown> }>).candidate;
  if (candidate?.properties) {
    const { $schema: _ignored, ...deployment } = z.toJSONSchema(ManagedDeploymentSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
    candidate.properties.deployment = deployment;
  }
  return {
    $schema: schema.$schema,
    $id: 'https://glidepath.dev/schemas/rollout.schema.json',
    title: 'Glidepath rollout plan (glidepath/v1, kind: Rollout)',
    description:
      'A safe rollout of a new model version to an Azure ML managed online endpoint. Durations are strings like 45s, 30m, 24h; percentages are integers; each strategy step has exactly one key.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** The file's expected content. */
export function planJsonSchemaText(): string {
  return JSON.stringify(planJsonSchema(), null, 2) + '\n';
}

function main(): void {
  const text = planJsonSchemaText();
  if (process.argv.includes('--check')) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== text) {
      console.error('examples/rollout.schema.json is stale: run `node --import tsx scripts/gen-plan-schema.ts`');
      process.exit(1);
    }
    console.log('examples/rollout.schema.json is up to date');
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out.pathname}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
