// Browser benchmark: time from opening the page to the first finished epoch, and training
// samples/s, for every bundled example, on the CPU (wasm) backend and — with --webgpu — on WebGPU
// (SwiftShader in headless Chromium without a GPU).
//
//   node tests/e2e/measure.mjs [--webgpu] [--dist DIR] [--epochs N]
//
// Prints a table and writes tests/e2e/out/measure-<backend>.json. A benchmark, not a test: run it
// on an otherwise idle machine.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = name => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const webgpu = process.argv.includes('--webgpu');
const dist = path.resolve(arg('--dist') ?? path.join(here, '../../dist'));
const epochs = arg('--epochs') ?? '1';
const server = await serve(dist);
const origin = `http://127.0.0.1:${server.address().port}`;
const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
if (webgpu) args.push('--enable-unsafe-webgpu');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const backend = webgpu ? 'webgpu' : 'cpu';
const results = { backend, dist, epochs: Number(epochs), examples: {} };
for (const ex of ['planted', 'tiny', 'criteo', 'avazu', 'movielens']) {
    const page = await browser.newPage();
    const opened = Date.now();
    await page.goto(`${origin}/?ex=${ex}&be=${backend}&ep=${epochs}`);
    await page.waitForSelector('#schema tr[data-column]');
    await page.click('#start', { noWaitAfter: true });
    await page.waitForFunction(() => document.querySelector('#first-epoch').dataset.seconds || document.querySelector('#error'), null, { timeout: 600_000, polling: 100 });
    if (await page.locator('#error').count()) throw new Error(`${ex}: ${await page.textContent('#error')}`);
    results.examples[ex] = {
        page_to_first_epoch_s: (Date.now() - opened) / 1000,
        worker_data_to_first_epoch_s: Number(await page.getAttribute('#first-epoch', 'data-seconds')),
        samples_per_s: Number(await page.getAttribute('#first-epoch', 'data-rate')),
        backend_in_use: await page.textContent('#backend-in-use'),
    };
    await page.close();
}
await browser.close();
server.close();
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', `measure-${backend}.json`), JSON.stringify(results, null, 2));
console.log(`backend ${backend}, ${dist}`);
console.log('example    page→epoch 1 (s)  samples/s');
for (const [ex, r] of Object.entries(results.examples)) {
    console.log(`${ex.padEnd(10)} ${r.page_to_first_epoch_s.toFixed(1).padStart(16)}  ${r.samples_per_s.toFixed(0).padStart(9)}`);
}
