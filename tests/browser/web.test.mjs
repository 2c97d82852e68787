// The web interface in a real browser (Debian's chromium, driven by playwright-core): what a
// security officer, an engineer and the Buyer do every day, and what another contract's buyer
// may not see. run.sh starts the server and sets ISMS_URL; the users' password is
// ISMS_TEST_PASSWORD.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const base = process.env.ISMS_URL;
const password = process.env.ISMS_TEST_PASSWORD;
assert.ok(base && password, 'run through tests/browser/run.sh, which sets ISMS_URL');

let browser;
const problems = [];  // console errors (a Content-Security-Policy violation is one) and failed pages

function previousMonth() {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

async function session(user) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${user}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${user}: ${e.message}`));
  await page.goto(base);
  assert.match(page.url(), /\/login\?next=%2F$/, 'a page without a session goes to the log-in');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Contracts', level: 1 }).waitFor();
  return { context, page };
}

describe('the web interface', () => {
  before(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // As root (the test machines), Chromium runs only with its sandbox off.
      args: ['--no-sandbox'],
    });
  });
  after(async () => {
    await browser?.close();
  });

  let officer;
  let submission;  // the number of the ISMS submission recorded through the form

  it('logs in and reads the dashboard', async () => {
    officer = await session('officer');
    const { page } = officer;
    await page.getByRole('link', { name: 'acme' }).click();
    await page.getByRole('heading', { name: 'Contract acme', level: 1 }).waitFor();
    for (const name of ['Breached', 'Due in the next 14 days', 'Met', 'Latest events']) {
      assert.ok(await page.getByRole('heading', { name, level: 2 }).isVisible(), name);
    }
    // Nothing was submitted since the Start Date 75 days ago: the ISMS (3.1) is breached.
    const breached = page.locator('section[aria-labelledby="breached"]');
    assert.match(await breached.innerText(), /Clause 3\.1/);
    assert.match(await breached.innerText(), /Submit the ISMS/);
    // The scan's overdue Critical findings, each linked to its page.
    await breached.getByRole('link', { name: /^F-\d+$/ }).first().click();
    await page.getByRole('heading', { name: /^Finding F-\d+/ }).waitFor();
    assert.match(await page.locator('main').innerText(), /Patch released/);
  });

  it('lets the keyboard skip to the content first', async () => {
    const { page } = officer;
    await page.goto(`${base}c/acme`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to the content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  });

  it('records an event through a form, the document hashed by the server', async () => {
    const { page } = officer;
    await page.goto(`${base}c/acme`);
    await page.getByRole('link', { name: 'Record an event' }).click();
    await page.getByRole('link', { name: 'isms.submitted' }).click();
    const document = Buffer.from('The ISMS of acme, version 1\n');
    await page.getByLabel(/or choose the document/).setInputFiles({
      name: 'isms-v1.pdf', mimeType: 'application/pdf', buffer: document,
    });
    const yesterday = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
    await page.getByLabel(/When it happened/).fill(yesterday);
    await page.getByRole('button', { name: 'Record the event' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Recorded event' });
    await notice.waitFor();
    const m = (await notice.innerText()).match(/Recorded event (\d+): isms\.submitted/);
    assert.ok(m, await notice.innerText());
    submission = m[1];
    const hash = createHash('sha256').update(document).digest('hex');
    const timeline = await page.locator('ol.timeline').innerText();
    assert.ok(timeline.includes(`doc=sha256:${hash}`), timeline);
  });

  it('refuses an invalid event with the ledger\'s message and keeps what was typed', async () => {
    const { page } = officer;
    await page.goto(`${base}c/acme/events/new?type=isms.submitted`);
    await page.getByLabel('doc', { exact: true }).fill('sha256:not-a-hash');
    await page.getByLabel(/^Note/).fill('typed before the refusal');
    await page.getByRole('button', { name: 'Record the event' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /is not sha256:<64 lowercase hex digits>/);
    assert.equal(await page.getByLabel(/^Note/).inputValue(), 'typed before the refusal');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'error',
      'the message takes the focus, so a screen reader reads it first');
  });

  it('lets the Buyer approve from its own account without evidence', async () => {
    const buyer = await session('buyer');
    const { page } = buyer;
    await page.goto(`${base}c/acme/events/new`);
    assert.equal(await page.getByRole('link', { name: 'isms.submitted' }).count(), 0,
      'the Buyer records only its own acts');
    await page.getByRole('link', { name: 'isms.approved' }).click();
    await page.getByLabel('submission', { exact: true }).fill(submission);
    await page.getByRole('button', { name: 'Record the event' }).click();
    await page.getByRole('status').filter({ hasText: 'isms.approved' }).waitFor();
    const latest = page.locator('ol.timeline li').first();
    assert.match(await latest.innerText(), /isms\.approved/);
    assert.match(await latest.innerText(), /by the Buyer/);
    await buyer.context.close();
  });

  it('filters the vulnerabilities, at once with the script', async () => {
    const { page } = officer;
    await page.goto(`${base}c/acme/vulns`);
    assert.ok(await page.locator('figure.chart svg[role="img"]').isVisible(), 'the age chart');
    await Promise.all([
      page.waitForURL(/state=all/),
      page.getByLabel('State').selectOption('all'),
    ]);
    assert.match(await page.locator('main').innerText(), /Findings 1 to \d+ of \d+ \(all\)/);
  });

  it('downloads the monthly report and issues it', async () => {
    const { page } = officer;
    const month = previousMonth();
    await page.goto(`${base}c/acme`);
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByLabel('Month').fill(month);
    await page.getByRole('button', { name: 'Open the report' }).click();
    await page.getByRole('heading', { name: `Monthly report ${month}`, level: 1 }).waitFor();

    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV' }).click(),
    ]);
    assert.equal(csv.suggestedFilename(), `acme-report-${month}-preview.csv`);
    const text = await readFile(await csv.path(), 'utf8');
    assert.ok(text.length > 0);

    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: `Issue the report of ${month}` }).click();
    await page.getByRole('status').filter({ hasText: 'is issued' }).waitFor();
    const hash = (await page.locator('code.hash').first().innerText()).trim();
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'JSON' }).last().click(),
    ]);
    assert.equal(json.suggestedFilename(), `acme-report-${month}-issued.json`);
    const frozen = await readFile(await json.path());
    assert.equal(createHash('sha256').update(frozen).digest('hex'), hash,
      'the download is the frozen report whose hash the ledger holds');
  });

  it('refuses a buyer of one contract the other, as if it did not exist', async () => {
    const other = await session('otherbuyer');
    const { page } = other;
    const home = await page.locator('main').innerText();
    assert.match(home, /other/);
    assert.doesNotMatch(home, /acme/);
    for (const path of ['c/acme', 'c/acme/vulns', 'c/acme/reports', 'c/acme/audit']) {
      const response = await page.goto(`${base}${path}`);
      assert.equal(response.status(), 404, path);
      assert.match(await page.locator('main').innerText(), /no contract named 'acme'/, path);
    }
    const none = await page.goto(`${base}c/nonexistent`);
    assert.equal(none.status(), 404);
    await other.context.close();
  });

  it('creates an API token on the account page, shown once, and revokes it', async () => {
    const { page, context } = officer;
    await page.goto(`${base}c/acme`);
    await page.getByRole('link', { name: 'Your account' }).click();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    const year = new Date().getUTCFullYear() + 1;
    await page.getByLabel('Expires').fill(`${year}-01-31`);
    await page.getByLabel('Note').fill('browser test');
    await page.getByRole('button', { name: 'Create the token' }).click();
    await page.getByRole('heading', { name: 'Your new API token', level: 2 }).waitFor();
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    assert.match(token, /^isms_[A-Za-z0-9_-]{43}$/);
    const api = (t) => context.request.get(`${base}api/v1/contracts`,
      { headers: { Authorization: `Bearer ${t}` }, failOnStatusCode: false });
    assert.equal((await api(token)).status(), 200);
    await page.goto(`${base}account`);
    assert.ok(!(await page.content()).includes(token), 'shown once');
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: /^Revoke token/ }).click();
    await page.getByText('Revoked the API token.').waitFor();
    assert.equal((await api(token)).status(), 401);
  });

  it('logs out', async () => {
    const { page } = officer;
    await page.goto(`${base}c/acme`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You have logged out.').waitFor();
    await page.goto(`${base}c/acme`);
    assert.match(page.url(), /\/login\?next=%2Fc%2Facme$/);
    await officer.context.close();
  });

  it('runs with no script error and no Content-Security-Policy violation', () => {
    // The refused form (400) and the refused contract (404) above are logged as console errors
    // by Chromium; nothing else may be.
    const unexpected = problems.filter((p) => !/status of (400|404)/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
