// End-to-end check of the Starling dashboard in headless Chromium.
//
//   STARLING_URL=http://127.0.0.1:7878 SCREENSHOTS=/tmp/shots node dashboard.mjs
//
// Env: STARLING_URL (required), SCREENSHOTS (folder for PNGs; none saved when unset),
// CHROMIUM (default /usr/bin/chromium), SEARCH_QUERY (default lang:fa),
// HOSTILE_QUERY (a query whose results carry script payloads; default
// `xss OR alert OR onerror OR script OR javascript`),
// STARLING_TOKEN (optional API token, stored as the dashboard would store it).
// Exits 1 with a message on stderr at the first unmet step; prints a one-line JSON
// summary on stdout when every step passes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = (process.env.STARLING_URL || '').replace(/\/+$/, '');
const SHOTS = process.env.SCREENSHOTS || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SEARCH_QUERY = process.env.SEARCH_QUERY || 'lang:fa';
// The demo's hostile posts carry <script>alert(1)</script>, onerror= and javascript: payloads.
const HOSTILE_QUERY = process.env.HOSTILE_QUERY || 'xss OR alert OR onerror OR script OR javascript';
const TOKEN = process.env.STARLING_TOKEN || '';
const TIMEOUT = 30_000;
const PAGE_SCRIPTS = 1; // index.html loads app.js and nothing else

const dialogs = [];
const pageErrors = [];

class StepError extends Error {}

function fail(step, message) {
  throw new StepError(`${step}: ${message}`);
}

/** Runs one step, turning a timeout or any other failure into a message naming the step. */
async function step(name, fn) {
  const started = Date.now();
  try {
    const result = await fn();
    process.stderr.write(`ok   ${name} (${Date.now() - started} ms)\n`);
    return result;
  } catch (err) {
    if (err instanceof StepError) throw err;
    fail(name, err && err.message ? err.message.split('\n')[0] : String(err));
  }
}

async function screenshot(page, name) {
  if (!SHOTS) return;
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

async function searchFor(page, query) {
  await page.click('nav a[data-nav="search"]');
  await page.waitForSelector('[data-testid="search-input"]', { state: 'visible', timeout: TIMEOUT });
  await page.fill('[data-testid="search-input"]', query);
  await page.click('[data-testid="search-button"]');
  // The results box names the query it shows once it has rendered that query's answer.
  await page.waitForFunction((q) => {
    const err = document.querySelector('[data-testid="search-error"]');
    if (err && !err.hidden && err.textContent.trim()) return true;
    const box = document.querySelector('[data-testid="search-results"]');
    return box && box.getAttribute('data-query') === q;
  }, query, { timeout: TIMEOUT });
  const error = await page.$eval('[data-testid="search-error"]', (el) => (el.hidden ? '' : el.textContent.trim()));
  if (error) throw new Error(`the search for ${JSON.stringify(query)} failed: ${error}`);
  const total = await page.$eval('[data-testid="search-total"]', (el) => Number(el.dataset.total || 0));
  const keys = await page.$$eval('[data-testid="search-results"] [data-testid="post"]', (els) => els.map((el) => el.dataset.key));
  return { total, keys };
}

async function openPost(page, key) {
  await page.evaluate((k) => { location.hash = `#post/${encodeURIComponent(k)}`; }, key);
  await waitForDetail(page, key);
}

async function waitForDetail(page, key) {
  await page.waitForFunction((k) => {
    const detail = document.querySelector('[data-testid="post-detail"]');
    if (!detail || detail.closest('[hidden]')) return false;
    if (k !== null && detail.getAttribute('data-key') !== k) return false;
    const raw = detail.querySelector('pre[data-testid="raw"]');
    return raw && raw.textContent.trim().length > 0;
  }, key, { timeout: TIMEOUT });
}

/** Everything a script payload could have left behind. */
async function injectionFindings(page) {
  return page.evaluate((expectedScripts) => {
    const found = [];
    if (window.__xss && window.__xss.length) found.push(`trapped calls: ${window.__xss.join(', ')}`);
    const scripts = document.querySelectorAll('script').length;
    if (scripts !== expectedScripts) found.push(`${scripts} <script> elements, expected ${expectedScripts}`);
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.attributes) {
        if (attr.name.toLowerCase().startsWith('on')) found.push(`<${el.localName}> has ${attr.name}`);
      }
    }
    for (const a of document.querySelectorAll('a[href], area[href]')) {
      const href = (a.getAttribute('href') || '').replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
      if (href.startsWith('javascript:') || href.startsWith('data:') || href.startsWith('vbscript:')) found.push(`a link to ${href.slice(0, 40)}`);
    }
    for (const a of document.querySelectorAll('a')) {
      const href = a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '';
      if (/^\s*javascript:/i.test(href)) found.push('an SVG link to javascript:');
    }
    const embedded = document.querySelectorAll('iframe, object, embed, frame, base, meta[http-equiv]').length;
    if (embedded) found.push(`${embedded} iframe/object/embed/base/meta-refresh elements`);
    if (document.querySelectorAll('a[href^="javascript:" i]').length) found.push('a[href^="javascript:"] exists');
    return found.slice(0, 20);
  }, PAGE_SCRIPTS);
}

async function run() {
  if (!BASE) fail('setup', 'STARLING_URL is not set');
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);

    // 1. traps
    page.on('dialog', (dialog) => { dialogs.push(`${dialog.type()}: ${dialog.message()}`); dialog.dismiss().catch(() => {}); });
    page.on('pageerror', (err) => { pageErrors.push(err.message); });
    page.on('console', (msg) => { // a CSP violation means the page tried something the policy forbids
      if (/Content Security Policy/i.test(msg.text())) pageErrors.push(`CSP: ${msg.text()}`);
    });
    await page.addInitScript(() => {
      window.__xss = [];
      for (const f of ['alert', 'confirm', 'prompt']) window[f] = (...a) => window.__xss.push(f);
    });
    if (TOKEN) await page.addInitScript((t) => localStorage.setItem('starling-token', t), TOKEN);

    // 2. live view: columns fill, then grow from the event stream
    const cards = await step('live view', async () => {
      await page.goto(`${BASE}/`, { waitUntil: 'domcontentloaded', timeout: TIMEOUT });
      const column = '[data-testid="watch-column"]';
      await page.waitForSelector(column, { timeout: TIMEOUT });
      await page.waitForSelector(`${column} [data-testid="post"]`, { timeout: TIMEOUT });
      // A card that arrived through the stream (data-live), in whichever column: some columns
      // hold only posts imported before the page opened (the hostile ones), which never grow.
      const count = () => page.$$eval(`${column} [data-testid="post"]`, (els) => els.length);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="watch-column"] [data-testid="post"][data-live]'),
        null,
        { timeout: 3 * TIMEOUT },
      );
      if (!(await page.$(`${column} [data-testid="post"][data-live]`))) fail('live view', 'no card arrived from the event stream');
      const after = await count();
      await screenshot(page, 'live.png');
      return after;
    });

    // 3. search
    const searchTotal = await step('search', async () => {
      const { total, keys } = await searchFor(page, SEARCH_QUERY);
      if (!(total > 0)) fail('search', `total for ${JSON.stringify(SEARCH_QUERY)} is ${total}`);
      if (!keys.length) fail('search', 'no result cards');
      await screenshot(page, 'search.png');
      return total;
    });

    // 4. post detail from the first result
    await step('post detail', async () => {
      const first = await page.$('[data-testid="search-results"] [data-testid="post"]');
      const key = await first.getAttribute('data-key');
      await first.click({ position: { x: 8, y: 8 } });
      await waitForDetail(page, key);
      await screenshot(page, 'post.png');
    });

    // 5. hostile posts: nothing they carry may run or become markup
    const hostile = await step('hostile payloads', async () => {
      const { keys } = await searchFor(page, HOSTILE_QUERY);
      if (!keys.length) fail('hostile payloads', `no results for ${JSON.stringify(HOSTILE_QUERY)}`);
      const opened = keys.slice(0, 10);
      for (const key of opened) await openPost(page, key);
      await page.waitForTimeout(500); // let any delayed payload fire
      const findings = await injectionFindings(page);
      if (dialogs.length) findings.push(`dialogs opened: ${dialogs.join('; ')}`);
      if (findings.length) fail('hostile payloads', findings.join('; '));
      await screenshot(page, 'hostile.png');
      return opened.length;
    });

    // 6. sources: each connector's health, the one whose server is down with its gap open
    if (process.env.EXPECT_SOURCES) {
      await step('sources', async () => {
        await page.click('nav a[data-nav="live"]');
        const expected = Number(process.env.EXPECT_SOURCES);
        await page.waitForFunction((n) => {
          const items = document.querySelectorAll('[data-testid="sources"] [data-testid="source"]');
          const down = document.querySelector('[data-testid="sources"] [data-testid="source"].down');
          return items.length >= n && down && /gap open since/.test(down.textContent);
        }, expected, { timeout: TIMEOUT });
        await screenshot(page, 'sources.png');
      });
    }

    // 7. map
    await step('map', async () => {
      await page.click('nav a[data-nav="map"]');
      await page.waitForFunction(() => {
        const svg = document.querySelector('#view-map:not([hidden]) svg');
        return svg && svg.querySelectorAll('path.country').length >= 50;
      }, null, { timeout: TIMEOUT });
      await screenshot(page, 'map.png');
    });

    const findings = await injectionFindings(page);
    if (findings.length) fail('final check', findings.join('; '));
    if (pageErrors.length) fail('final check', `errors in the page: ${pageErrors.slice(0, 5).join('; ')}`);
    process.stdout.write(`${JSON.stringify({ ok: true, cards, search_total: searchTotal, hostile_posts: hostile })}\n`);
  } finally {
    await browser.close();
  }
}

run().catch((err) => {
  process.stderr.write(`FAIL ${err && err.message ? err.message : err}\n`);
  if (pageErrors.length) process.stderr.write(`page errors: ${pageErrors.slice(0, 5).join('; ')}\n`);
  process.exitCode = 1;
});
