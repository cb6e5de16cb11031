// The live incident board in headless Chromium against the real services (board_test starts them
// and writes SETUP: the gateway's URL, the API tokens, the sources' tokens, the RTO and its first
// threshold). As a new user would: sign in with a token, watch an incident arrive after an event
// is posted, open it with the keyboard, press "ack" and see the timeline say so, watch its RTO
// countdown turn amber at the playbook's first threshold and red past the RTO; a viewer pressing
// resolve is refused and nothing changes; a prefecture sees every municipality, grouped; drills
// are apart, marked 訓練; English and Japanese; a phone's width. Screenshots go to ARTEFACT_DIR.
//
//   node tests/browser/board.mjs SETUP.json ARTEFACT_DIR
//
// Writes SETUP.json's "result" file ({"incident": id}) for board_test's own checks. Exit 0 when
// every check holds, 1 otherwise.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { args, check, finish, launch } from './lib.mjs';

const [setupPath, artefacts] = args('node board.mjs SETUP.json ARTEFACT_DIR');
const setup = JSON.parse(readFileSync(setupPath, 'utf8'));
const base = setup.url;
const run = Date.now().toString(36);

async function post(source, token, event) {
  const r = await fetch(`${base}/v1/events/${source}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(event),
  });
  if (r.status !== 202) throw new Error(`POST ${source}: ${r.status} ${await r.text()}`);
}

async function apiGet(path, token) {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json() };
}

async function shot(page, name) {
  const path = join(artefacts, `board-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

async function signIn(page, token) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.locator('#token').waitFor({ state: 'visible' });
  await page.locator('#token').fill(token);
  await page.keyboard.press('Enter');
  await page.locator('#who').waitFor({ state: 'visible', timeout: 5000 });
  // The board is up and its live feed connected before anything is posted.
  await page.locator('#live[data-up="1"]').waitFor({ timeout: 5000 });
}

async function waitFor(what, fn, timeout) {
  try {
    await fn(timeout);
    return true;
  } catch (e) {
    console.log(`  (${what}: ${e.message.split('\n')[0]})`);
    return false;
  }
}

const event = (title, extra = {}) => ({
  title,
  severity: 'critical',
  category: 'malware',
  dedup_key: `${title}`,
  assets: [{ host: 'juki-ap01' }],
  ...extra,
});

const browser = await launch();
let incident = null;
try {
  // --- A commander signs in; a wrong token is refused with a message. ---------------------------
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'ja-JP' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  check(await page.locator('#signin').isVisible(), 'the sign-in form is shown first');
  await page.locator('#token').fill('not-a-token');
  await page.locator('#signin button[type=submit]').click();
  check(await waitFor('refusal', (t) => page.locator('#signin-error', { hasText: 'トークンが無効' }).waitFor({ timeout: t }), 5000),
    'a wrong token is refused with a message');
  errors.length = 0;  // the browser logs the refused token's 401
  await signIn(page, setup.tokens.commander);
  check((await page.locator('#who').textContent()).includes('指揮者'), 'the header names the role (指揮者)');
  await shot(page, 'signed-in');

  // --- An incident appears within a second of its event. -----------------------------------------
  const title = `ランサムウェア検知 ${run}`;
  const cardSel = `li.card:has-text("${title}")`;
  check(await page.locator(cardSel).count() === 0, 'the incident is not on the board before its event');
  const posted = Date.now();
  await post('siem', setup.sources.siem, event(title));
  const appeared = await waitFor('card', (t) => page.locator(cardSel).waitFor({ timeout: t }), 1000);
  const ms = Date.now() - posted;
  console.log(`the incident appeared ${ms} ms after the event was posted`);
  check(appeared, `the incident appears within 1 s of the event (${ms} ms)`);
  const card = page.locator(cardSel);
  incident = await card.getAttribute('data-incident');
  const cardText = await card.innerText();
  check(cardText.includes('緊急') && cardText.includes('機密性3A') && cardText.includes('未受領'),
    'the card shows severity, classification and status in words');
  check(await card.locator('[data-opened]').count() === 1 && (await card.locator('[data-opened]').innerText()).startsWith('経過'),
    'the card shows the incident\'s age');
  const cardClock = card.locator('.clock[data-service="juki"]');
  check(await cardClock.getAttribute('data-state') === 'ok', 'its RTO countdown starts green (ok)');
  check((await cardClock.innerText()).includes('正常') && (await cardClock.innerText()).includes('残り'),
    'the countdown says its state and the time left in words');
  check(await page.locator('section.group[data-tenant="default"] h2', { hasText: '備え市' }).count() === 1,
    'the incidents are under the municipality\'s name');
  check(await page.locator('tr[data-service="juki"] td.state').innerText().then((s) => s.includes('正常')),
    'the services table shows the service\'s RTO status');
  await shot(page, 'incident-arrived');

  // --- Opened with the keyboard; ack from the button; the timeline says so. ----------------------
  const link = card.locator('h3 a');
  await link.focus();
  await page.keyboard.press('Enter');
  await page.locator(`#incident-h`).waitFor({ timeout: 5000 });
  check(decodeURIComponent(page.url()).endsWith(`#/incident/${incident}`), 'Enter on the focused card opens the incident');
  check(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'incident-h',
    'focus moves to the incident\'s heading');
  const nodes = page.locator('li.node');
  check(await nodes.count() === 3, `the step graph shows the playbook's three steps (${await nodes.count()})`);
  check(await page.locator('li.node[data-step="triage"][data-status="active"]').count() === 1 &&
        (await page.locator('li.node[data-step="triage"] .status').innerText()).includes('対応中'),
    'the active step is marked in words');
  check((await page.locator('li.node[data-step="triage"]').innerText()).includes('担当: csirt'), 'steps show their owners');
  check((await page.locator('li.node[data-step="restore"]').innerText()).includes('前提: isolate'), 'steps show what they wait for');
  const layers = await page.locator('.graph ol.layer').count();
  check(layers === 3, `steps are laid out by dependency (${layers} columns)`);
  const ack = page.locator('button[data-verb="ack"]');
  check(await ack.count() === 1 && !(await ack.getAttribute('class')).includes('locked'), 'a commander has an "ack" button');
  const before = await page.locator('ol.timeline li').count();
  await ack.click();
  check(await waitFor('ack entry', (t) => page.locator('ol.timeline li[data-kind="ack"]', { hasText: 'api:commander' }).waitFor({ timeout: t }), 10000),
    'after "ack" the timeline shows the acknowledgement by the commander');
  check(await page.locator('ol.timeline li').count() > before, 'the timeline grew without a reload');
  check(await waitFor('status', (t) => page.locator('.incident-head[data-status="acknowledged"]').waitFor({ timeout: t }), 5000),
    'the incident reads acknowledged (対応中)');
  check(await waitFor('applied', (t) => page.locator('#cmd-result', { hasText: '反映されました: ack' }).waitFor({ timeout: t }), 10000),
    'the command is confirmed as applied');
  await shot(page, 'acknowledged');

  // --- The countdown turns amber at the first threshold, red past the RTO. ----------------------
  const clockSel = '.incident-head .clock[data-service="juki"]';
  const warnAfter = setup.rto_seconds * setup.threshold * 1000;
  check(await waitFor('amber', (t) => page.locator(`${clockSel}[data-state="warn"]`).waitFor({ timeout: t }), warnAfter + 10000),
    `the countdown turns amber once ${setup.threshold} of the RTO has passed`);
  const amber = await page.locator(clockSel).innerText();
  check(amber.includes('注意'), `amber says so in words (${amber.replace(/\n/g, ' ')})`);
  const amberColour = await page.locator(`${clockSel} .used`).evaluate((e) => getComputedStyle(e).backgroundColor);
  check(amberColour === 'rgb(179, 107, 0)', `the amber bar is amber (${amberColour})`);
  await shot(page, 'amber');
  check(await waitFor('escalation', (t) => page.locator('ol.timeline li[data-kind="escalation"]').waitFor({ timeout: t }), 15000),
    'the playbook\'s escalation at the threshold lands in the timeline live');
  check(await waitFor('red', (t) => page.locator(`${clockSel}[data-state="breach"]`).waitFor({ timeout: t }), setup.rto_seconds * 1000 + 5000),
    'past the RTO the countdown turns red');
  check((await page.locator(clockSel).innerText()).includes('RTO 超過'), 'red says "RTO 超過" in words');
  await shot(page, 'breached');

  // --- A viewer pressing resolve is refused, and nothing changes. --------------------------------
  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
  const viewer = await viewerContext.newPage();
  await signIn(viewer, setup.tokens.viewer);
  await viewer.goto(`${base}/#/incident/${encodeURIComponent(incident)}`);
  await viewer.locator('#incident-h').waitFor({ timeout: 5000 });
  const resolve = viewer.locator('button[data-verb="resolve"]');
  check(await resolve.count() === 1 && (await resolve.getAttribute('class')).includes('locked') &&
        (await resolve.getAttribute('title')).includes('commander'),
    'a viewer sees resolve marked as needing the commander role');
  const timelineBefore = (await apiGet(`/v1/incidents/${incident}/timeline?limit=500`, setup.tokens.viewer)).body.total;
  await resolve.click();
  check(await waitFor('refusal', (t) => viewer.locator('#cmd-refusal', { hasText: 'commander' }).waitFor({ timeout: t }), 5000),
    'pressing resolve shows the refusal (the commander role is needed)');
  check(await viewer.locator('#cmd-refusal[role="alert"]').count() === 1, 'the refusal is announced (role=alert)');
  const after = await apiGet(`/v1/incidents/${incident}`, setup.tokens.viewer);
  check(after.body.status === 'acknowledged' && after.body.resolved_at === null, `the incident is not resolved (${after.body.status})`);
  check(await viewer.locator('.incident-head[data-status="acknowledged"]').count() === 1, 'the page still shows it acknowledged');
  // The attempt is audited (PRODUCT §9); nothing resolved it.
  check(await waitFor('audit', async (t) => {
    const until = Date.now() + t;
    for (;;) {
      const tl = (await apiGet(`/v1/incidents/${incident}/timeline?limit=500`, setup.tokens.viewer)).body;
      const added = tl.entries.slice(timelineBefore);
      if (added.some((e) => e.kind === 'resolved')) throw new Error(`resolved: ${JSON.stringify(added)}`);
      if (added.some((e) => e.kind === 'command' && e.actor === 'api:viewer' && /^refused `resolve/.test(e.text))) return;
      if (Date.now() > until) throw new Error('no refusal audited');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 10000), 'the refused attempt is audited, and nothing resolved the incident');
  await shot(viewer, 'viewer-refused');

  // --- Drills apart, marked 訓練; a prefecture sees every municipality, grouped. -------------------
  const drillTitle = `訓練: 標的型メール ${run}`;
  await post('siem', setup.sources.siem, event(drillTitle, { exercise: true, assets: [{ host: 'mail-01' }] }));
  const townTitle = `隣町 不正アクセス ${run}`;
  await post('siem-b', setup.sources.siemB, event(townTitle, { assets: [{ host: 'web-01' }] }));
  const pref = await (await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'ja-JP' })).newPage();
  await signIn(pref, setup.tokens.prefecture);
  check(await waitFor('town-b', (t) => pref.locator(`section.group[data-tenant="town-b"] li.card:has-text("${townTitle}")`).waitFor({ timeout: t }), 5000),
    'a prefecture sees the other municipality\'s incident');
  check(await pref.locator('section.group[data-tenant="town-b"] > h2', { hasText: '隣町' }).count() === 1 &&
        await pref.locator('section.group[data-tenant="default"] > h2', { hasText: '備え市' }).count() === 1,
    'grouped under each municipality\'s name');
  check(await waitFor('drill', (t) => pref.locator(`[data-zone="exercise"] li.card:has-text("${drillTitle}")`).waitFor({ timeout: t }), 5000),
    'the drill\'s incident is in the exercise zone');
  check(await pref.locator(`section.group li.card:has-text("${drillTitle}")`).count() === 0, 'and not among the real incidents');
  check((await pref.locator(`[data-zone="exercise"] li.card:has-text("${drillTitle}") .badge.drill`).innerText()).includes('訓練'),
    'it is marked 訓練');
  await shot(pref, 'prefecture');

  // --- English, a phone, and colour never the only signal. ---------------------------------------
  await pref.locator('#lang').click();
  check(await pref.locator('h1').innerText().then((s) => s.includes('Incident board')), 'English at a click');
  check(await pref.evaluate(() => document.documentElement.lang) === 'en', 'the page\'s language follows');
  const enClock = await pref.locator(`section.group li.card:has-text("${title}") .clock`).innerText();
  check(enClock.includes('RTO breached') && /over/.test(enClock), `the countdown in English (${enClock.replace(/\n/g, ' ')})`);
  check((await pref.locator('[data-zone="exercise"] h2').first().innerText()).includes('訓練'), 'drills stay marked 訓練 in English');
  await pref.setViewportSize({ width: 390, height: 844 });
  await pref.waitForTimeout(50);  // layout
  const overflow = await pref.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `nothing wider than a phone (${overflow} px over)`);
  await shot(pref, 'phone-en');
  // Every countdown states itself in words beside its colour.
  const wordless = await pref.locator('.clock').evaluateAll((els) => els.filter((e) => !e.querySelector('.state').textContent.trim()).length);
  check(wordless === 0, 'every countdown has its state in words');

  check(errors.length === 0, `no script errors (${errors.join(' | ')})`);
} finally {
  await browser.close();
}
if (setup.result) writeFileSync(setup.result, JSON.stringify({ incident }));
finish();
