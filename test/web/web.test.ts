/**
 * The demo web app (web/) in headless Chromium, served on 127.0.0.1 by tools/platform/serve.mjs as a static
 * site of the package root: pick shipped items -> LeNet-5's top 3 holds the right class; drawing updates the
 * prediction; the VAE and autoencoder sections appear (their weights ship); after the service worker took
 * control, an offline reload still works without a single request reaching the server. Screenshots go to
 * .cache/web-*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { serve, type Served } from '../../tools/platform/serve.mjs';
import { assertBuilt, platform, ROOT } from '../platform/helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const p = platform('chromium', CHROMIUM, 'apt-get install -y chromium, or set CHROMIUM_PATH');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SHOTS = join(ROOT, '.cache');

interface AppState {
  ready: boolean;
  error: string | null;
  backend: string;
  top3: string[];
  selected: number;
  extras: { vae?: { latent: number }; autoencoder?: { threshold: number }; anomaly?: { score: number; ratio: number } };
}

describe.skipIf(p.skip)(`${p.title}: demo web app`, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let server: Served;
  const logs: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    mkdirSync(SHOTS, { recursive: true });
    server = await serve();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const state = () => page.evaluate(() => (globalThis as unknown as { __app: AppState }).__app);
  async function ready(): Promise<AppState> {
    await page.waitForFunction(() => (globalThis as any).__app?.ready || (globalThis as any).__app?.error, undefined, { timeout: 30_000 }).catch((e) => {
      throw new Error(`app not ready: ${e.message}\n${logs.join('\n')}\n${server.log.slice(-20).join('\n')}`);
    });
    const s = await state();
    expect(s.error, logs.join('\n')).toBeNull();
    return s;
  }
  async function pick(i: number): Promise<{ label: string; top3: string[] }> {
    const button = page.locator(`#samples button[data-index="${i}"]`);
    await button.click();
    await page.waitForFunction((k) => (globalThis as any).__app.selected === k, i);
    const label = (await button.getAttribute('data-label'))!;
    const top3 = await page.locator('#top3 li > span:first-child').allTextContents();
    return { label, top3 };
  }

  it('loads, shows the backend, and picking shipped items puts the right class in the top 3', async () => {
    await page.goto(`${server.url}/web/`);
    const s = await ready();
    expect(s.backend).toBe('relaxed');
    await expect(page.locator('#backend').textContent()).resolves.toBe('relaxed SIMD');
    expect(await page.locator('#samples button').count()).toBe(64);
    for (const i of [0, 1, 2, 3, 8, 9]) {
      const { label, top3 } = await pick(i);
      expect(top3, `item ${i}`).toHaveLength(3);
      expect(top3, `item ${i} (${label})`).toContain(label);
    }
    const boot = await pick(0);
    expect(boot.top3[0]).toBe('Ankle boot');
    await expect(page.locator('#t-infer').textContent()).resolves.toMatch(/^\d+(\.\d+)? (µs|ms)$/);
    expect(await page.locator('.timings dd').count(), 'one timing figure beside backend and load time').toBe(3);
  });

  it('thumbnails show their true label and mark the ones LeNet-5 gets wrong', async () => {
    const marks = await page.locator('#samples button').evaluateAll((bs) => bs.map((b) => ({
      label: (b as HTMLElement).dataset.label, predicted: (b as HTMLElement).dataset.predicted,
      cap: b.querySelector('.cap')?.textContent, wrong: b.classList.contains('wrong'), right: b.classList.contains('right'),
    })));
    expect(marks).toHaveLength(64);
    for (const m of marks) {
      expect(m.cap && m.label!.toLowerCase().startsWith(m.cap.toLowerCase().slice(0, 4)) || (m.label === 'Ankle boot' && m.cap === 'Boot')).toBe(true);
      expect(m.wrong).toBe(m.label !== m.predicted);
      expect(m.right).toBe(!m.wrong);
    }
    // the mark agrees with what a click shows: the top class of a wrong one is its predicted label
    const wrong = marks.findIndex((m) => m.wrong);
    const right = marks.findIndex((m) => m.right);
    for (const i of [wrong, right].filter((i) => i >= 0)) expect((await pick(i)).top3[0]).toBe(marks[i].predicted);
    const acc = marks.filter((m) => m.right).length / 64;
    expect(acc).toBeGreaterThan(0.75); // LeNet-5 scores ~0.9 on Fashion-MNIST's test set
    console.info(`[web] shipped samples: ${Math.round(acc * 64)}/64 right`);
  });

  it('is installable: manifest icons (any + maskable), a favicon, / and /web lead to the app', async () => {
    // Chromium's own verdict; Playwright's contexts are incognito (never installable), so a profile of its own
    const profile = mkdtempSync(join(tmpdir(), 'wasmzoo-pwa-'));
    const installable = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
    try {
      const p2 = installable.pages()[0] ?? (await installable.newPage());
      await p2.goto(`${server.url}/web/`);
      await p2.waitForFunction(() => (globalThis as any).__app?.ready, undefined, { timeout: 30_000 });
      await p2.evaluate(() => navigator.serviceWorker.ready);
      const cdp = await installable.newCDPSession(p2);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      expect(installabilityErrors, JSON.stringify(installabilityErrors)).toEqual([]);
      const { url, data } = await cdp.send('Page.getAppManifest');
      expect(url).toBe(`${server.url}/web/manifest.webmanifest`);
      expect(JSON.parse(data ?? "{}").name).toBe('wasmzoo Fashion-MNIST demo');
    } finally {
      await installable.close();
      rmSync(profile, { recursive: true, force: true });
    }
    const manifest = await (await fetch(`${server.url}/web/manifest.webmanifest`)).json();
    expect(manifest.icons.map((i: { purpose: string }) => i.purpose)).toEqual(expect.arrayContaining(['any', 'maskable']));
    for (const icon of manifest.icons) {
      const res = await fetch(`${server.url}/web/${icon.src}`);
      expect(res.status, icon.src).toBe(200);
      const png = new Uint8Array(await res.arrayBuffer());
      const view = new DataView(png.buffer);
      expect(`${view.getUint32(16)}x${view.getUint32(20)}`, icon.src).toBe(icon.sizes); // the IHDR width x height
    }
    for (const path of ['/', '/web']) {
      const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe('/web/');
    }
    expect((await fetch(`${server.url}/favicon.ico`)).headers.get('content-type')).toBe('image/png');
    expect(server.log.filter((l) => l.startsWith('404')), 'no request of the app was a 404').toEqual([]);
  });

  it('the VAE sampler and the autoencoder meter are shown (their weights ship) and react', async () => {
    await expect(page.locator('#vae-card').isVisible()).resolves.toBe(true);
    await expect(page.locator('#ae-card').isVisible()).resolves.toBe(true);
    const s = await state();
    expect(s.extras.vae).toEqual({ latent: 16 });
    expect(s.extras.autoencoder?.threshold).toBeGreaterThan(0);
    await pick(2); // trousers: a class the autoencoder was trained on
    const known = (await state()).extras.anomaly!;
    expect(known.score).toBeGreaterThan(0);
    expect(await page.locator('#ae-verdict').textContent()).toMatch(/error \d\.\d{4} \(\d+\.\d\d× the 99th percentile\)/);
    await page.locator('#z0').fill('2');
    await page.locator('#vae-sample').click();
    expect(await page.locator('#vae-grid canvas').count()).toBe(8);
  });

  it('drawing on the pad updates the prediction', async () => {
    await page.locator('#clear').click();
    const box = (await page.locator('#pad').boundingBox())!;
    // a rough closed outline (what it is called does not matter: the prediction must follow the pad)
    await page.mouse.move(box.x + 100, box.y + 30);
    await page.mouse.down();
    for (const [x, y] of [[180, 30], [185, 250], [150, 250], [140, 90], [130, 250], [95, 250], [100, 30]]) {
      await page.mouse.move(box.x + x, box.y + y, { steps: 6 });
    }
    await page.mouse.up();
    await page.waitForTimeout(100);
    const s = await state();
    expect(s.selected).toBe(-1);
    expect(s.top3).toHaveLength(3);
    await page.screenshot({ path: join(SHOTS, 'web-drawn.png'), fullPage: true });
    console.info(`[web] drawn outline -> top 3: ${s.top3.join(', ')}`);
    await pick(0);
    await page.screenshot({ path: join(SHOTS, 'web-online.png'), fullPage: true });
  });

  it('works offline after the service worker took control (reload with the network off)', async () => {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 }).catch(async () => {
      await page.reload(); // first visit not yet controlled: clients.claim() normally handles it
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
    });
    const cached = await page.evaluate(async () => (await (await caches.open('wasmzoo-web-v2')).keys()).map((r) => new URL(r.url).pathname));
    expect(cached).toEqual(expect.arrayContaining(['/web/index.html', '/web/app.js', '/dist/wasmzoo.mjs', '/weights/lenet5-fashion.safetensors', '/assets/fashion-samples.safetensors', '/weights/vae-fashion.safetensors', '/web/icons/icon-192.png']));
    await context.setOffline(true);
    const before = server.log.length;
    try {
      await page.reload();
      const s = await ready();
      expect(await page.evaluate(() => navigator.onLine)).toBe(false);
      expect(s.backend).toBe('relaxed');
      const { label, top3 } = await pick(2);
      expect(top3).toContain(label);
      await expect(page.locator('#vae-card').isVisible()).resolves.toBe(true);
      await expect(page.locator('#offline-state').textContent()).resolves.toBe('(offline, offline-ready)');
      await page.screenshot({ path: join(SHOTS, 'web-offline.png'), fullPage: true });
      expect(server.log.slice(before), 'no request reached the server while offline').toEqual([]);
    } finally {
      await context.setOffline(false);
    }
    expect(logs.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });
});
