// Shared by the browser tests: the arguments, the Chromium to drive, a check that counts
// failures and the exit that reports them.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

// Debian's chromium package; SONAE_CHROMIUM overrides it. Missing is a failure, never a skip.
export function browserExecutable() {
  const path = process.env.SONAE_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) {
    console.error(`FAIL: no Chromium at ${path} (scripts/test installs the Debian package chromium)`);
    process.exit(1);
  }
  return path;
}

let failed = 0;
export function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed += 1;
}
export function failures() {
  return failed;
}

// The two arguments every browser test takes (what to open, where screenshots go), resolved; the
// artefact directory is created. Exits 2 with `usage` when one is missing.
export function args(usage) {
  const [what, artefacts] = process.argv.slice(2);
  if (!what || !artefacts) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  mkdirSync(resolve(artefacts), { recursive: true });
  return [resolve(what), resolve(artefacts)];
}

// Headless Chromium as the tests run it (no sandbox: CI runs as root).
export function launch() {
  return chromium.launch({
    executablePath: browserExecutable(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// Prints the verdict and exits 1 when a check failed.
export function finish() {
  if (failed > 0) {
    console.error(`${failed} check(s) failed`);
    process.exit(1);
  }
  console.log('all checks passed');
}
