/** Headless Chromium (Debian's `chromium`) for rendering reports: dump the DOM, take a screenshot. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** $CHROMIUM_PATH, else /usr/bin/chromium; throws with the install hint when neither exists. */
export function findChromium(): string {
  const p = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(p)) throw new Error(`headless Chromium not found at ${p}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return p;
}

function run(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'glidepath-chromium-'));
  const base = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(findChromium(), [...base, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

/** The DOM Chromium built from an HTML file. */
export function dumpDom(htmlPath: string): Promise<string> {
  return run(['--dump-dom', pathToFileURL(htmlPath).href]);
}

/** A PNG screenshot of an HTML file. */
export async function screenshot(htmlPath: string, pngPath: string, size = '1000,1400'): Promise<void> {
  await run([`--screenshot=${pngPath}`, `--window-size=${size}`, '--hide-scrollbars', pathToFileURL(htmlPath).href]);
}
