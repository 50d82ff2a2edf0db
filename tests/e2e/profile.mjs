// Where the training worker's time goes in the browser: trains one bundled example on the CPU
// (wasm) backend with Chromium's sampling profiler on, and prints the functions that took the
// most samples (self time), summed over the run, and the same grouped by crate.
//
//   node tests/e2e/profile.mjs [--dist DIR] [--example planted] [--epochs 3] [--top 40]
//
// Function names need a build with its name section (trunk's dev build has one; a release
// build is stripped). A tool for looking, not a test.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = name => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const dist = path.resolve(arg('--dist') ?? path.join(here, '../../dist'));
const example = arg('--example') ?? 'planted';
const epochs = arg('--epochs') ?? '3';
const top = Number(arg('--top') ?? '40');
const server = await serve(dist);
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--no-first-run'] });
const page = await browser.newPage();
await page.goto(`${origin}/?ex=${example}&be=cpu&ep=${epochs}`);
await page.waitForSelector('#schema tr[data-column]');
const tracePath = path.join(os.tmpdir(), `qnn-profile-${process.pid}.json`);
await browser.startTracing(page, { path: tracePath, categories: ['disabled-by-default-v8.cpu_profiler', 'v8.execute'] });
await page.click('#start', { noWaitAfter: true });
await page.waitForFunction(() => document.querySelector('#final-metrics, #error'), null, { timeout: 600_000, polling: 200 });
const rate = await page.getAttribute('#first-epoch', 'data-rate');
await browser.stopTracing();
await browser.close();
server.close();

// Chromium's trace: per profiled thread, "ProfileChunk" events add call-tree nodes and samples.
const events = JSON.parse(fs.readFileSync(tracePath, 'utf8')).traceEvents ?? [];
fs.unlinkSync(tracePath);
// Samples are kept per thread; the worker is the thread with the most samples in Rust code.
const nodes = new Map();
const threads = new Map();
for (const e of events) {
    if (e.name !== 'ProfileChunk') continue;
    const profile = e.args?.data?.cpuProfile;
    if (!profile) continue;
    const key = `${e.pid}:${e.id}`;
    for (const n of profile.nodes ?? []) nodes.set(`${key}:${n.id}`, n.callFrame?.functionName || '(anonymous)');
    const thread = threads.get(`${e.pid}:${e.tid}`) ?? new Map();
    threads.set(`${e.pid}:${e.tid}`, thread);
    for (const s of profile.samples ?? []) {
        const name = nodes.get(`${key}:${s}`) ?? '?';
        if (name === '(idle)' || name === '(program)' || name === '(root)') continue;
        thread.set(name, (thread.get(name) ?? 0) + 1);
    }
}
const rustSamples = t => [...t].filter(([name]) => name.includes('::')).reduce((a, [, n]) => a + n, 0);
const selfSamples = [...threads.values()].sort((a, b) => rustSamples(b) - rustSamples(a))[0] ?? new Map();
const total = [...selfSamples.values()].reduce((a, n) => a + n, 0);
const crateOf = name => {
    const m = name.match(/^<*([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/);
    return m ? m[1] : '(js / glue)';
};
const byCrate = new Map();
for (const [name, n] of selfSamples) byCrate.set(crateOf(name), (byCrate.get(crateOf(name)) ?? 0) + n);
const show = (title, map, count) => {
    console.log(`\n${title}`);
    for (const [name, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
        console.log(`${(100 * n / total).toFixed(1).padStart(5)}%  ${name.slice(0, 150)}`);
    }
};
console.log(`${example}, ${epochs} epochs, CPU backend; first epoch ${Number(rate).toFixed(0)} samples/s; ${total} busy samples in the worker`);
show('worker, by crate (self time)', byCrate, 20);
show('worker, by function (self time)', selfSamples, top);
