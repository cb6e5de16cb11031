// Shared by the browser tests: the Chromium to drive and a check that counts failures.
import { existsSync } from 'node:fs';

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
