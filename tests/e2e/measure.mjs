// Browser benchmark: time from opening the page to the first finished epoch, and training
// samples/s, for every bundled example, on the CPU (wasm) backend and — with --webgpu — on WebGPU
// (SwiftShader in headless Chromium without a GPU).
//
//   node tests/e2e/measure.mjs [--webgpu] [--dist DIR] [--epochs N] [--idle S] [--examples a,b]
//
// --idle S waits S seconds on the loaded page before pressing Train, as a person reading it
// would (the worker warms up meanwhile); without it Train is pressed as soon as the data shows.
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
const idle = Number(arg('--idle') ?? '0');
const server = await serve(dist);
const origin = `http://127.0.0.1:${server.address().port}`;
const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
if (webgpu) args.push('--enable-unsafe-webgpu');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const backend = webgpu ? 'webgpu' : 'cpu';
const results = { backend, dist, epochs: Number(epochs), idle_s: idle, examples: {} };
const only = arg('--examples')?.split(',');
for (const ex of ['planted', 'tiny', 'criteo', 'avazu', 'movielens'].filter(e => !only || only.includes(e))) {
    const page = await browser.newPage();
    const opened = Date.now();
    await page.goto(`${origin}/?ex=${ex}&be=${backend}&ep=${epochs}`);
    await page.waitForSelector('#schema tr[data-column]');
    if (idle > 0) await page.waitForTimeout(idle * 1000);
    await page.click('#start', { noWaitAfter: true });
    await page.waitForFunction(() => document.querySelector('#first-epoch').dataset.seconds || document.querySelector('#error'), null, { timeout: 600_000, polling: 100 });
    if (await page.locator('#error').count()) throw new Error(`${ex}: ${await page.textContent('#error')}`);
    results.examples[ex] = {
        // The idle wait is the reader's, not the page's: left out.
        page_to_first_epoch_s: (Date.now() - opened) / 1000 - idle,
        worker_data_to_first_epoch_s: Number(await page.getAttribute('#first-epoch', 'data-seconds')),
        samples_per_s: Number(await page.getAttribute('#first-epoch', 'data-rate')),
        warm_up_steps: Number(await page.getAttribute('#first-epoch', 'data-warm-up-steps') || 0),
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
