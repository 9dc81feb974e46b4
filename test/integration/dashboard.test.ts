// The dashboard in a real browser: playwright-core drives Debian's chromium (headless, no
// network: loopback only, background services off, a fresh profile). With two busybox
// containers running, the page lists both, the process tree shows at least three processes
// whose innermost PID is 1 (the host's and one per container), the CPU chart receives new
// points, and clicking Stop on one card makes it show STOPPED. A screenshot is saved to
// test-artifacts/dashboard.png. Skipped (never passed) without root or without /usr/bin/chromium.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lxts as runCli, machineState, leftovers, tempDir, isRoot, ROOT } from './helpers/lxts.js';
import { startServer, DEFAULT_WEB_ROOT, type RunningServer } from '../../src/server/index.js';
import { Container } from '../../src/container.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !isRoot ? 'needs root' : !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : !existsSync(join(DEFAULT_WEB_ROOT, 'index.html')) ? 'the page is not built (npm run build)' : false;

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps', '--no-default-browser-check'];

test('dashboard in chromium: two containers listed, three PID 1s in the tree, CPU chart grows, Stop works; screenshot', { timeout: 180000, skip }, async () => {
  const { chromium } = await import('playwright-core');
  const before = machineState();
  const dir = tempDir('lxts-dash-');
  const rundir = tempDir('lxts-dashrun-');
  const profile = mkdtempSync(join(tmpdir(), 'lxts-chromium-'));
  const oldRun = process.env.LXTS_RUNDIR;
  process.env.LXTS_RUNDIR = rundir.path;
  const env = { ...process.env, LXTS_RUNDIR: rundir.path };
  const cli = (args: string[]) => runCli([args[0]!, '-P', dir.path, ...args.slice(1)], { env, timeoutMs: 60000 });
  let srv: RunningServer | undefined;
  let ctx: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    for (const n of ['alpha', 'bravo']) {
      const c = await cli(['create', n, '-t', 'busybox']);
      assert.equal(c.code, 0, c.stderr);
      const s = await cli(['start', n]);
      assert.equal(s.code, 0, s.stderr);
    }
    srv = await startServer({ port: 0, listen: '127.0.0.1', lxtspath: dir.path, rundir: rundir.path });
    // a persistent context is how playwright takes a --user-data-dir: a fresh one, removed after
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1600, height: 1000 },
      deviceScaleFactor: 1,
    });
    // the page may only talk to our server
    await ctx.route('**/*', (route) => (route.request().url().startsWith(srv!.url) ? route.continue() : route.abort()));
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(srv.url);

    // both cards, both RUNNING
    for (const n of ['alpha', 'bravo']) {
      await page.locator(`.card[data-container="${n}"][data-state="RUNNING"]`).waitFor({ timeout: 20000 });
    }
    assert.equal(await page.locator('.card').count(), 2);
    assert.match(await page.locator('.card[data-container="alpha"] .facts').innerText(), /alpha\/rootfs/);

    // the process tree: the host's PID 1 and one PID 1 per container
    await page.locator('#tree-body .group[data-group="alpha"]').waitFor({ timeout: 20000 });
    await page.locator('#tree-body .group[data-group="bravo"]').waitFor({ timeout: 20000 });
    const ones = await page.locator('#tree-body [data-innermost-pid="1"]').count();
    assert.ok(ones >= 3, `at least three processes with PID 1 in their innermost namespace, saw ${ones}`);
    for (const n of ['alpha', 'bravo']) {
      const text = await page.locator(`#tree-body .group[data-group="${n}"]`).innerText();
      assert.match(text, /host \d+\s*→\s*1\s*init/, `${n}: host PID → 1 on the init row`);
      assert.match(text, /lxts-exec/, `${n}: the monitor heads the group`);
    }

    // the CPU chart receives new points
    const points = async (): Promise<number> => Number(await page.locator('#cpu-chart').getAttribute('data-points'));
    const p0 = await points();
    await page.waitForFunction((n) => Number(document.getElementById('cpu-chart')!.dataset.points) >= n + 2, p0, { timeout: 15000 });
    assert.ok((await points()) >= p0 + 2);
    assert.equal(await page.locator('#cpu-chart canvas').count(), 1, 'uPlot drew a canvas');

    // Stop on one card
    await page.locator('.card[data-container="bravo"] button[data-action="stop"]').click();
    await page.locator('.card[data-container="bravo"][data-state="STOPPED"] .state', { hasText: 'STOPPED' }).waitFor({ timeout: 40000 });
    assert.equal(await page.locator('.card[data-container="alpha"]').getAttribute('data-state'), 'RUNNING');
    assert.equal((await new Container('bravo', { lxtspath: dir.path, rundir: rundir.path }).state()).state, 'STOPPED');
    await page.waitForTimeout(1500); // one more tick, so the picture shows it everywhere

    const outDir = join(ROOT, 'test-artifacts');
    mkdirSync(outDir, { recursive: true });
    const shot = join(outDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    assert.deepEqual(errors, [], 'no script errors on the page');
  } finally {
    await ctx?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
    await srv?.close();
    for (const c of Container.list({ lxtspath: dir.path, rundir: rundir.path })) await c.destroy({ force: true }).catch(() => undefined);
    if (oldRun === undefined) delete process.env.LXTS_RUNDIR;
    else process.env.LXTS_RUNDIR = oldRun;
    dir.remove();
    rundir.remove();
    assert.deepEqual(await leftovers(before, 8000), [], 'the machine is as it was');
  }
});
