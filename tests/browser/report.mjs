// Opens an after-action report.html in headless Chromium (Debian's /usr/bin/chromium), keeps a
// full-page screenshot as a test artefact and checks that the SVG timeline is drawn: one bar per
// activated step and one RTO line per business service of report.json (read beside the HTML),
// each with a visible size inside the chart.
//
//   node tests/browser/report.mjs REPORT_HTML ARTEFACT_DIR
//
// Exit 0 when every check holds, 1 otherwise, including when Chromium cannot be started: a
// missing browser is a failure, never a skip.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { args, check, finish, launch } from './lib.mjs';

const [html, artefacts] = args('node report.mjs REPORT_HTML ARTEFACT_DIR');
const report = JSON.parse(readFileSync(join(dirname(html), 'report.json'), 'utf8'));

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A self-contained report loads nothing but itself.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  const shot = join(artefacts, basename(dirname(html)) + '-report.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  check(foreign.length === 0, `no external requests (${foreign.join(', ')})`);

  const svg = page.locator('svg#timeline');
  check(await svg.count() === 1, 'one SVG timeline');
  const svgBox = await svg.boundingBox();
  check(svgBox !== null && svgBox.width > 300 && svgBox.height > 50,
    `the timeline has a visible size (${JSON.stringify(svgBox)})`);

  // One RTO line per service with a deadline, at its place and drawn.
  const services = report.services.filter((s) => s.deadline_seconds !== null);
  const lines = page.locator('svg#timeline line[data-service]');
  check(await lines.count() === services.length,
    `${services.length} RTO lines (found ${await lines.count()})`);
  for (const s of services) {
    const line = page.locator(`svg#timeline line[data-service="${s.id}"][data-tenant="${s.tenant}"]`);
    check(await line.count() === 1, `an RTO line for ${s.tenant}/${s.id}`);
    if (await line.count() !== 1) continue;
    const box = await line.boundingBox();
    check(box !== null && box.height > 20 && box.x >= svgBox.x && box.x <= svgBox.x + svgBox.width,
      `the RTO line of ${s.tenant}/${s.id} is drawn inside the chart (${JSON.stringify(box)})`);
    const stroke = await line.evaluate((el) => getComputedStyle(el).stroke);
    check(stroke && stroke !== 'none', `the RTO line of ${s.tenant}/${s.id} has a stroke (${stroke})`);
    const label = await line.evaluate((el) => el.parentElement.querySelector('text')?.textContent ?? '');
    check(label.includes(s.name.slice(0, 4)), `the RTO line of ${s.tenant}/${s.id} is labelled with its name (${label})`);
  }

  // One bar per activated step; late steps carry a mark, not only a colour.
  const activated = report.steps.filter((s) => s.activated_at_seconds !== null);
  const bars = page.locator('svg#timeline g.step rect.bar');
  check(await bars.count() === activated.length,
    `${activated.length} step bars (found ${await bars.count()})`);
  const widths = await bars.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
  check(widths.every((w) => w > 0), 'every step bar has a width');
  const late = report.steps.filter((s) => s.late && s.activated_at_seconds !== null).length;
  const marks = page.locator('svg#timeline g.step.late text.mark');
  check(await marks.count() === late, `${late} late marks (found ${await marks.count()})`);

  // Every incident (and so every tenant) is in the incidents table.
  for (const inc of report.incidents) {
    const row = page.locator(`#incidents tr[data-tenant="${inc.tenant}"]`, { hasText: inc.id });
    check(await row.count() === 1, `incident ${inc.id} of ${inc.tenant} is listed`);
  }
  check((await page.locator('#score').textContent()).trim() === String(report.score), 'the score is shown');
} finally {
  await browser.close();
}
finish();
