/**
 * The README's shell blocks, as the tests that exercise them read them. Every ```sh block in README.md is
 * preceded by a marker comment that says who runs it verbatim:
 *
 *   <!-- ci: run -->           test/e2e/readme-commands.test.ts runs it with bash and expects exit 0
 *   <!-- ci: demo -->          test/e2e/demo.test.ts runs it and checks the two rollouts it makes
 *   <!-- ci: entry -->         .ci/run runs it (the test checks that .ci/run runs exactly these commands)
 *   <!-- ci: docker -->        run when a Docker client with compose is installed (skipped, saying so, otherwise)
 *   <!-- ci: manual REASON --> cannot run here (real Azure, Slack, a second terminal); the reason is stated
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/temporal.js';

export interface ReadmeBlock {
  marker: string | null;
  /** The text after the marker's kind, e.g. the reason of `manual`. */
  note: string;
  code: string;
  line: number;
}

export function readmeBlocks(path = join(repoRoot, 'README.md')): ReadmeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let inFence: { lang: string; start: number; body: string[]; marker: string | null; note: string } | null = null;
  let pending: { marker: string; note: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (inFence) {
      if (/^```\s*$/.test(l)) {
        if (inFence.lang === 'sh') blocks.push({ marker: inFence.marker, note: inFence.note, code: inFence.body.join('\n'), line: inFence.start + 1 });
        inFence = null;
      } else inFence.body.push(l);
      continue;
    }
    const m = /^<!--\s*ci:\s*(\S+)\s*(.*?)\s*-->\s*$/.exec(l);
    if (m) {
      pending = { marker: m[1]!, note: m[2]! };
      continue;
    }
    const f = /^```(\S*)\s*$/.exec(l);
    if (f) {
      inFence = { lang: f[1]!, start: i, body: [], marker: pending?.marker ?? null, note: pending?.note ?? '' };
      pending = null;
      continue;
    }
    if (l.trim() !== '') pending = null;
  }
  return blocks;
}
