// Opens every incident report (<kind>.<lang>.html, with its <kind>.<lang>.json beside it) in
// headless Chromium, keeps a full-page screenshot of each as a test artefact, and checks that it
// renders as a document: self-contained, no script, its title and incident id shown, its tables
// drawn with a visible size, and the report's own values (deadlines, the people affected, what
// went well) on the page, with the alert title's markup shown as text.
//
//   node tests/browser/incident-report.mjs REPORT_DIR ARTEFACT_DIR
//
// Exit 0 when every check holds, 1 otherwise (a missing browser is a failure, never a skip).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { args, check, finish, launch } from './lib.mjs';

const [dir, artefacts] = args('node incident-report.mjs REPORT_DIR ARTEFACT_DIR');
const pages = readdirSync(dir).filter((f) => f.endsWith('.html')).sort();
check(pages.length === 8, `four kinds in two languages (found ${pages.length})`);

const browser = await launch();
try {
  for (const file of pages) {
    const report = JSON.parse(readFileSync(join(dir, file.replace(/\.html$/, '.json')), 'utf8'));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const foreign = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
    await page.goto(pathToFileURL(join(dir, file)).href, { waitUntil: 'load' });
    const shot = join(artefacts, 'incident-report-' + basename(file, '.html') + '.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    check(foreign.length === 0, `${file}: no external requests (${foreign.join(', ')})`);
    check(await page.locator('script').count() === 0, `${file}: no script element`);

    const main = page.locator(`main#report[data-kind="${report.kind}"]`);
    check(await main.count() === 1, `${file}: the report of kind ${report.kind}`);
    const h1 = (await page.locator('h1').first().textContent()) ?? '';
    check(h1.includes(report.incident.id), `${file}: the heading names ${report.incident.id} (${h1})`);
    check((await page.title()).includes(report.name), `${file}: the page title is "${report.name}"`);

    const tables = page.locator('main table');
    const count = await tables.count();
    check(count >= 2, `${file}: its tables are drawn (${count})`);
    const boxes = await tables.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()));
    check(boxes.every((b) => b.width > 100 && b.height > 20), `${file}: every table has a visible size`);

    const text = await main.innerText();
    // The alert's title carried markup: it is shown as text, never run.
    if (!report.kind.startsWith('ppc')) {  // the PPC's form does not print the alert's title
      check(text.includes('<script>alert(1)</script>'), `${file}: the alert title's markup is text`);
    }
    for (const d of report.deadlines) {
      check(text.includes(d.state_text), `${file}: the ${d.report} deadline reads "${d.state_text}"`);
    }
    if (report.kind !== 'review') {
      check(text.includes(String(report.personal_data.affected)),
        `${file}: ${report.personal_data.affected} people affected`);
      check(text.includes(report.summary), `${file}: the summary`);
    } else {
      for (const w of report.review.went_well) check(text.includes(w.text), `${file}: went well "${w.text}"`);
      const rows = await page.locator('main table', { hasText: report.review.timeline[0].kind }).count();
      check(rows >= 1, `${file}: the timeline table`);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
finish();
