// End-to-end tests of the browser trainer (web/) in Debian's headless Chromium.
//
//   QNN_E2E_WEBGPU=1  run with --enable-unsafe-webgpu (SwiftShader's software WebGPU); else no WebGPU
//   QNN_DIST          the built site (default: <repo>/dist, from `trunk build`)
//   QNN_BIN           the native `qnn` binary (for the browser ↔ CLI checks)
//
// Serves the site from a local static server, drives it with playwright-core, and writes
// screenshots to tests/e2e/screenshots/ and measurements to tests/e2e/out/.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dist = process.env.QNN_DIST ?? path.join(repo, 'dist');
const qnnBin = process.env.QNN_BIN ?? path.join(repo, 'target/debug/qnn');
const webgpu = process.env.QNN_E2E_WEBGPU === '1';
const mode = webgpu ? 'webgpu' : 'cpu';
const out = path.join(here, 'out', mode);
const shots = path.join(here, 'screenshots');
fs.mkdirSync(out, { recursive: true });
fs.mkdirSync(shots, { recursive: true });

let browser, server, origin;
const measurements = { mode };
const chromiumArgs = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', ...(webgpu ? ['--enable-unsafe-webgpu'] : [])];
const offOrigin = [];
// Every Content-Security-Policy violation any page reports (Chromium logs each as an error).
const cspViolations = [];

async function newPage(query = '') {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    page.on('request', r => {
        const u = r.url();
        if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) offOrigin.push(u);
    });
    page.on('pageerror', e => console.log(`[${mode}] page error: ${e.message}`));
    page.on('console', m => {
        if (m.type() === 'error' && /Content Security Policy/.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${origin}/${query}`);
    // Attached, not visible: a lesson link may hide the data section.
    await page.waitForSelector('#data', { state: 'attached' });
    return page;
}

async function pickExample(page, id) {
    await page.click(`button[data-example="${id}"]`);
    await page.waitForSelector('#schema tr[data-column]');
}

async function setParam(page, key, value) {
    const input = `#param-${key}`;
    if (await page.getAttribute(input, 'type') === 'checkbox') {
        assert.ok(['true', 'false'].includes(String(value)), `${key} is on or off, not ${value}`);
        await page.setChecked(input, String(value) === 'true');
        return;
    }
    await page.fill(input, String(value));
    await page.dispatchEvent(input, 'change');
}

/// A copy of crates/cli/configs/tiny_csv with `edit.model` / `edit.dataset` applied to its two
/// files (each edit must change its text), in a temporary folder where the configs' data paths
/// (static/…) lead: { dir (run qnn there), configs (the edited folder) }.
function editedTinyConfigs(prefix, edit = {}) {
    const original = path.join(repo, 'crates/cli/configs/tiny_csv');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.symlinkSync(path.join(repo, 'static'), path.join(dir, 'static'));
    const configs = path.join(dir, 'configs');
    fs.mkdirSync(configs);
    for (const [file, change] of [['model_config.yaml', edit.model], ['dataset_config.yaml', edit.dataset]]) {
        const text = fs.readFileSync(path.join(original, file), 'utf8');
        const edited = change ? change(text) : text;
        if (change) assert.notEqual(edited, text, `the edit of ${file} changed nothing`);
        fs.writeFileSync(path.join(configs, file), edited);
    }
    return { dir, configs };
}

async function train(page, { timeout = 240_000 } = {}) {
    await page.click('#start', { noWaitAfter: true });
    await page.waitForSelector('#final-metrics', { timeout });
}

async function finalTestAuc(page) {
    return Number(await page.getAttribute('#final-test', 'data-auc'));
}

// Each legend entry of a chart is drawn in its line's colour (which it names), one per line.
async function assertLegendColours(page, chart) {
    const legend = await page.$$eval(`${chart} .legend li`, ts => ts.map(t => getComputedStyle(t).color));
    const lines = await page.$$eval(`${chart} polyline`, ps => ps.map(p => getComputedStyle(p).stroke));
    assert.ok(lines.length >= 2, `${chart}: ${lines}`);
    assert.deepEqual(legend, lines, chart);
    assert.equal(new Set(lines).size, lines.length, `${chart}: one colour per line: ${lines}`);
}

async function shot(page, name, selector) {
    const file = path.join(shots, `${mode}-${name}.png`);
    if (selector) await page.locator(selector).screenshot({ path: file });
    else await page.screenshot({ path: file, fullPage: true });
}

before(async () => {
    assert.ok(fs.existsSync(path.join(dist, 'index.html')), `no built site at ${dist}: run trunk build first`);
    server = await serve(dist);
    origin = `http://127.0.0.1:${server.address().port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
});

after(async () => {
    fs.writeFileSync(path.join(out, 'measurements.json'), JSON.stringify(measurements, null, 2));
    await browser?.close();
    server?.close();
});

describe(`browser trainer (${webgpu ? 'with WebGPU (SwiftShader)' : 'without WebGPU'})`, () => {
    it('detects WebGPU, defaults to the CPU backend and says why', async () => {
        const page = await newPage();
        const info = await page.textContent('#webgpu-info');
        if (webgpu) {
            assert.match(info, /software-only/);
            assert.equal(await page.locator('#backend option[value="webgpu"]').isDisabled(), false);
        } else {
            assert.match(info, /no WebGPU/);
            assert.equal(await page.locator('#backend option[value="webgpu"]').isDisabled(), true);
        }
        assert.equal(await page.inputValue('#backend'), 'cpu');
        // With the CPU backend chosen, the worker starts and warms up while the page is idle.
        await page.waitForFunction(() => document.querySelector('#first-epoch').dataset.warmUpSteps, null, { timeout: 60_000 });
        const steps = Number(await page.getAttribute('#first-epoch', 'data-warm-up-steps'));
        const seconds = Number(await page.getAttribute('#first-epoch', 'data-warm-up-seconds'));
        assert.ok(steps >= 16, `warm-up steps ${steps}`);
        measurements.warm_up = { steps, seconds };
        await page.context().close();
    });

    it('trains the planted example, lights up the planted pair and shows the Self-Ensemble gap', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await shot(page, 'data', '#data');
        // The schema guesses: six categorical fields and the label.
        const roles = await page.$$eval('#schema select.role', s => s.map(x => x.value));
        assert.deepEqual(roles, ['categorical', 'categorical', 'categorical', 'categorical', 'categorical', 'categorical', 'label']);
        await shot(page, 'schema', '#schema');
        await shot(page, 'model', '#model');
        await train(page);
        assert.equal(await page.textContent('#backend-in-use'), 'CPU (wasm)');
        const auc = await finalTestAuc(page);
        assert.ok(auc > 0.8, `test AUC ${auc}`);
        // Live charts got points; the gap chart too.
        for (const chart of ['#loss-chart', '#metrics-chart', '#gap-chart']) {
            assert.ok(await page.locator(`${chart} polyline`).count() >= 1, chart);
        }
        assert.ok(Number(await page.getAttribute('#gap-chart polyline', 'data-last')) > 0);
        await assertLegendColours(page, '#metrics-chart');
        await shot(page, 'train', '#train');
        // The hottest rendered cell is the planted pair, and its value is the largest rendered.
        const hottest = await page.$eval('#map-hottest', e => [e.dataset.a, e.dataset.b, Number(e.dataset.value)]);
        assert.deepEqual(new Set(hottest.slice(0, 2)), new Set(['f2', 'f5']), `hottest ${hottest}`);
        const cells = await page.$$eval('#map td.cell', rs => rs.filter(r => r.dataset.a !== r.dataset.b).map(r => Number(r.dataset.value)));
        assert.equal(cells.length, 30);
        assert.equal(Math.max(...cells), hottest[2]);
        // The colour scale runs from 0 to the largest pair (cells beyond it are dashed), or to
        // the largest cell, the diagonal included.
        const shown = await page.$$eval('#map td.cell', rs => rs.map(r => Number(r.dataset.value)));
        assert.equal(await page.textContent('#map-scale .max'), hottest[2].toFixed(4));
        assert.equal(await page.locator('#map td.cell.beyond').count(), shown.filter(v => v > hottest[2]).length);
        await page.uncheck('#map .map-pairs-scale');
        assert.equal(await page.textContent('#map-scale .max'), Math.max(...shown).toFixed(4));
        assert.equal(await page.locator('#map td.cell.beyond').count(), 0);
        await page.check('#map .map-pairs-scale');
        // Per layer and head views and the weight view render too.
        await page.selectOption('#map .map-layer', '1');
        await page.selectOption('#map .map-view', 'weight');
        assert.equal(await page.locator('#map td.cell').count(), 36);
        await page.selectOption('#map .map-view', 'activation');
        await page.selectOption('#map .map-layer', 'all');
        await shot(page, 'inside', '#inside');
        assert.ok(await page.locator('#samples tbody tr').count() >= 10);
        await page.context().close();
    });

    it('redraws the interaction map at each evaluation while training, and scrubs back over the run', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 5);
        // Every map drawn while the run is still going, by the frame it came from.
        await page.evaluate(() => {
            window.liveFrames = new Set();
            new MutationObserver(() => {
                const frame = document.querySelector('#map-frame');
                if (document.querySelector('#map td.cell') && !document.querySelector('#final-metrics') && frame) {
                    window.liveFrames.add(frame.textContent);
                }
            }).observe(document.body, { subtree: true, childList: true, characterData: true });
        });
        await train(page);
        const live = await page.evaluate(() => [...window.liveFrames]);
        assert.ok(live.some(l => /^epoch \d+ \(valid /.test(l)), `maps drawn while training: ${live}`);
        // One frame per evaluation (early stopping may end the run before the fifth epoch) and
        // the weights kept, shown last.
        const epochs = await page.locator('#metrics-chart polyline[data-series="valid AUC"]').getAttribute('points');
        const evaluations = epochs.split(' ').length;
        assert.equal(Number(await page.getAttribute('#map-scrubber', 'max')), evaluations);
        assert.equal(await page.getAttribute('#map-frame', 'data-index'), String(evaluations));
        assert.match(await page.textContent('#map-frame'), /after training: the weights kept/);
        const cellsNow = () => page.$$eval('#map td.cell', rs => rs.map(r => Number(r.dataset.value)));
        const kept = await cellsNow();
        const hottest = await page.$eval('#map-hottest', e => [e.dataset.a, e.dataset.b]);
        assert.deepEqual(new Set(hottest), new Set(['f2', 'f5']));
        // Every position of the slider: the first evaluation, the next ones, the weights kept.
        const scrub = i => page.$eval('#map-scrubber', (el, i) => {
            el.value = String(i);
            el.dispatchEvent(new Event('input', { bubbles: true }));
        }, i);
        const frames = [];
        for (let i = 0; i <= evaluations; i++) {
            await scrub(i);
            assert.equal(await page.getAttribute('#map-frame', 'data-index'), String(i));
            frames.push({ label: (await page.textContent('#map-frame')).trim(), cells: await cellsNow() });
        }
        assert.match(frames[0].label, /^epoch 1 \(valid AUC /);
        assert.ok(evaluations >= 2, `${evaluations} evaluations`);
        // The map moves as the model trains, and the weights kept are one evaluation's (the
        // best): the last position draws that evaluation's map.
        const same = (a, b) => a.every((v, i) => v === b[i]);
        assert.ok(frames.slice(1, -1).some(f => !same(f.cells, frames[0].cells)), 'every evaluation drew the same map');
        assert.ok(frames.slice(0, -1).some(f => same(f.cells, kept)), "the kept weights' map is no evaluation's");
        const pairShare = cells => {
            const pair = cells.filter((_, i) => [2 * 6 + 5, 5 * 6 + 2].includes(i)).reduce((a, b) => a + b, 0);
            const off = cells.filter((_, i) => Math.floor(i / 6) !== i % 6).reduce((a, b) => a + b, 0);
            return pair / off;
        };
        measurements.live_maps = { evaluations, labels: frames.map(f => f.label), planted_share: frames.map(f => pairShare(f.cells)) };
        await scrub(0);
        await shot(page, 'live-map', '#inside');
        await scrub(evaluations);
        assert.deepEqual(await cellsNow(), kept);
        // One test row explained: its own map, said to be that row's, and back.
        await page.click('#samples tbody tr:nth-child(3) button.explain');
        assert.equal(await page.getAttribute('#map-row', 'data-row'), '3');
        const served = Number(await page.textContent('#samples tbody tr:nth-child(3) td:nth-child(3)'));
        assert.match(await page.textContent('#map-row'), new RegExp(`test row 3 alone \\(label [01], prediction ${served.toFixed(4)}\\)`));
        const row = await cellsNow();
        assert.equal(row.length, kept.length);
        assert.ok(row.some((v, i) => v !== kept[i]), "row 3's map is the whole split's");
        assert.equal(await page.locator('#samples tr.explained').count(), 1);
        await shot(page, 'explain-row', '#inside');
        await page.click('#map-row-back');
        assert.equal(await page.locator('#map-row').count(), 0);
        assert.deepEqual(await cellsNow(), kept);
        await page.context().close();
    });

    it("trains the paper's ablation without the Self-Ensemble loss", async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'self_ensemble', 'false');
        await setParam(page, 'epochs', 2);
        assert.match(page.url(), /[?&]se=false/);
        await train(page);
        const auc = await finalTestAuc(page);
        assert.ok(auc > 0.8, `test AUC ${auc}`);
        assert.ok(await page.locator('#loss-chart polyline').count() >= 1);
        // One pass per step: no gap between passes to chart.
        assert.equal(await page.locator('#gap-chart').count(), 0);
        await page.context().close();
    });

    it('trains a model-zoo baseline (DeepFM) on the planted example, from a link too', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await page.selectOption('#network', 'DeepFM');
        assert.match(page.url(), /[?&]m=DeepFM/);
        // QNN's own settings are hidden; the ones DeepFM reads stay.
        assert.ok(await page.isHidden('#param-num_row'));
        assert.ok(await page.isHidden('#param-self_ensemble'));
        assert.ok(await page.isVisible('#param-embedding_dim'));
        await shot(page, 'zoo-settings', '#model');
        await train(page);
        const auc = await finalTestAuc(page);
        assert.ok(auc > 0.8, `DeepFM test AUC ${auc}`);
        assert.ok(await page.locator('#loss-chart polyline').count() >= 1);
        // One pass per step and no quadratic layers: no gap chart, and the map says why.
        assert.equal(await page.locator('#gap-chart').count(), 0);
        assert.match(await page.textContent('#inside'), /A DeepFM network has no interaction maps/);
        assert.ok(await page.locator('#samples tbody tr').count() >= 10);
        await shot(page, 'zoo-train', '#train');
        // The link opens the same network.
        const link = await page.getAttribute('#share-link', 'href');
        await page.context().close();
        const again = await newPage(link.slice(link.indexOf('?')));
        await again.waitForSelector('#network');
        assert.equal(await again.inputValue('#network'), 'DeepFM');
        await again.context().close();
    });

    it('races QNN, DeepFM and LR on one split: curves, results, the planted pair', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 4);
        // QNN, DeepFM and LR are ticked to start with.
        const ticked = await page.$$eval('input.race-runner', boxes => boxes.filter(b => b.checked).map(b => b.dataset.runner));
        assert.deepEqual(ticked, ['QNN', 'LR', 'DeepFM']);
        const started = Date.now();
        await page.click('#race-start');
        // The first runner's first evaluation: the first point of the validation chart.
        await page.waitForSelector('#race-chart polyline', { state: 'attached', timeout: 120_000 });
        const first_epoch_seconds = (Date.now() - started) / 1000;
        await page.waitForFunction(() => {
            const s = document.querySelector('#race-status');
            return s.dataset.on === 'false' && s.dataset.done === '3';
        }, null, { timeout: 300_000, polling: 200 });
        const seconds = (Date.now() - started) / 1000;
        const rows = await page.$$eval('#race-results tbody tr', trs => trs.map(t => ({
            runner: t.dataset.runner, score: Number(t.dataset.score), pair: t.dataset.pair,
            rate: Number(t.querySelector('[data-rate]').dataset.rate),
        })));
        assert.deepEqual(rows.map(r => r.runner), ['QNN', 'LR', 'DeepFM']);
        const by = Object.fromEntries(rows.map(r => [r.runner, r]));
        // Only a network that multiplies fields finds a label that depends on a pair alone.
        assert.ok(by.QNN.score > 0.8 && by.DeepFM.score > 0.8, JSON.stringify(rows));
        assert.ok(by.LR.score < 0.7, `LR test AUC ${by.LR.score}`);
        assert.equal(by.QNN.pair, 'f2,f5');
        assert.equal(by.LR.pair, '');
        // One validation curve per network, a point per evaluation (early stopping may end one
        // before the fourth epoch).
        const curves = await page.$$eval('#race-chart polyline', ps => ps.map(p => p.getAttribute('points').split(' ').length));
        assert.equal(curves.length, 3);
        assert.ok(curves.every(n => n >= 2 && n <= 4), `${curves}`);
        // And one training-loss curve per network.
        assert.equal(await page.locator('#race-loss-chart polyline').count(), 3);
        for (const chart of ['#race-chart', '#race-loss-chart']) await assertLegendColours(page, chart);
        measurements.race = { first_epoch_seconds, seconds, rows };
        await shot(page, 'race', '#race');
        await page.context().close();
    });

    it('generates the planted example from parameters: a cross column LR can read, a triple from a link', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        // The defaults are the bundled file's, and the link does not repeat them.
        assert.doesNotMatch(page.url(), /[?&]p[fintrx]=/);
        await page.check('#planted-px');
        await page.click('#planted-generate');
        await page.waitForSelector('#schema tr[data-column="f2_x_f5"]');
        assert.match(page.url(), /[?&]px=1/);
        assert.match(await page.textContent('#planted-summary'), /a column f2_x_f5 crosses them/);
        // LR alone: with the cross column it finds the pair it cannot multiply.
        await setParam(page, 'epochs', 4);
        for (const r of ['QNN', 'DeepFM']) await page.uncheck(`input.race-runner[data-runner="${r}"]`);
        await page.click('#race-start');
        await page.waitForFunction(() => {
            const s = document.querySelector('#race-status');
            return s.dataset.on === 'false' && s.dataset.done === '1';
        }, null, { timeout: 120_000, polling: 200 });
        const lr = Number(await page.getAttribute('#race-results tr[data-runner="LR"]', 'data-score'));
        assert.ok(lr > 0.8, `LR with the cross column: test AUC ${lr}`);
        await shot(page, 'planted-params', '#data');
        await page.context().close();
        // A triple, from a link: QNN learns it and its hottest pair lies inside it.
        const triple = await newPage('?ex=planted&pi=1,3,4&pt=4&pn=0.05&ep=8');
        await triple.waitForSelector('#schema tr[data-column]');
        assert.match(await triple.textContent('#planted-summary'), /f1 × f3 × f4 together \(5% noise\)/);
        assert.equal(await triple.locator('#schema tr[data-column]').count(), 7);
        await train(triple);
        const auc = await finalTestAuc(triple);
        const hottest = await triple.$eval('#map-hottest', e => [e.dataset.a, e.dataset.b]);
        measurements.planted_triple = { test_auc: auc, hottest };
        assert.ok(auc > 0.75, `triple: test AUC ${auc}`);
        assert.ok(hottest.every(f => ['f1', 'f3', 'f4'].includes(f)), `hottest ${hottest}`);
        await triple.context().close();
        // A parameter out of range is named, and the bundled file loads instead.
        const wrong = await newPage('?ex=planted&pi=2,9');
        await wrong.waitForSelector('#schema tr[data-column]');
        assert.match(await wrong.textContent('#error'), /pi: interacting field f9 is not one of the 6 fields/);
        assert.match(await wrong.textContent('#planted-summary'), /f2 × f5 together/);
        await wrong.context().close();
    });

    it('sweeps QNN over three seeds: a row per seed, their mean ± sd, each the run its seed gives alone', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 4);
        const seed = Number(await page.inputValue('#param-seed'));
        await page.fill('#sweep-runs', '3');
        await page.dispatchEvent('#sweep-runs', 'change');
        await page.click('#sweep-start');
        await page.waitForFunction(() => {
            const s = document.querySelector('#race-status');
            return s.dataset.on === 'false' && s.dataset.done === '3';
        }, null, { timeout: 300_000, polling: 200 });
        const rows = await page.$$eval('#race-results tbody tr', trs => trs.map(t => ({
            run: t.dataset.runner, score: Number(t.dataset.score),
        })));
        assert.deepEqual(rows.map(r => r.run), [0, 1, 2].map(i => `QNN seed ${seed + i}`));
        const scores = rows.map(r => r.score);
        // Each seed draws its own split, initialisation and dropout.
        assert.equal(new Set(scores).size, 3, `${scores}`);
        assert.ok(scores.every(s => s > 0.8), `${scores}`);
        const summary = await page.$eval('#race-summary', p => ({ ...p.dataset, text: p.textContent }));
        const mean = scores.reduce((a, b) => a + b, 0) / 3;
        const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
        assert.equal(summary.runs, '3');
        assert.ok(Math.abs(Number(summary.mean) - mean) < 1e-7, `${summary.mean} vs ${mean}`);
        assert.ok(Math.abs(Number(summary.std) - sd) < 1e-7, `${summary.std} vs ${sd}`);
        assert.equal(Number(summary.min), Math.min(...scores));
        assert.equal(Number(summary.max), Math.max(...scores));
        assert.match(summary.text, /test AUC over 3 seeds: 0\.\d{4} ± 0\.\d{4}/);
        assert.equal(await page.locator('#race-chart polyline').count(), 3);
        measurements.sweep = { scores, mean, sd };
        await shot(page, 'sweep', '#race');
        // A sweep's run is the ordinary run of its seed: the second seed trained alone scores the same.
        await setParam(page, 'seed', seed + 1);
        await train(page);
        const alone = await finalTestAuc(page);
        assert.ok(Math.abs(alone - scores[1]) < 1e-6, `alone ${alone} vs in the sweep ${scores[1]}`);
        // A number of seeds outside 2..=20 is refused with the range.
        await page.fill('#sweep-runs', '1');
        await page.dispatchEvent('#sweep-runs', 'change');
        assert.match(await page.textContent('#error'), /from 2 to 20/);
        await page.context().close();
    });

    it('stops within one second of a click mid-epoch, and pauses and resumes', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'batch_size', 16);
        await setParam(page, 'epochs', 50);
        await page.click('#start', { noWaitAfter: true });
        await page.waitForFunction(() => /batch (\d+)/.test(document.querySelector('#progress').textContent)
            && Number(document.querySelector('#progress').textContent.match(/batch (\d+)/)[1]) > 5, null, { timeout: 120_000 });
        await page.click('#pause');
        await page.waitForFunction(() => document.querySelector('#status').textContent === 'paused');
        const before = await page.textContent('#progress');
        await page.waitForTimeout(600);
        assert.equal(await page.textContent('#progress'), before, 'no steps while paused');
        await page.click('#pause');
        await page.waitForFunction(b => document.querySelector('#progress').textContent !== b, before, { timeout: 10_000 });
        // The page stays responsive: typing works while training runs.
        await setParam(page, 'seed', 99);
        const clicked = Date.now();
        await page.click('#stop');
        await page.waitForFunction(() => document.querySelector('#stopped-at').textContent.startsWith('stopped'), null, { timeout: 5_000 });
        const ms = Date.now() - clicked;
        measurements.stop_ms = ms;
        assert.ok(ms < 1000, `stopped after ${ms} ms`);
        await page.waitForSelector('#final-metrics', { timeout: 60_000 });
        await page.context().close();
    });

    it('steps one batch at a time, from an idle page and while paused, then resumes to the end', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'batch_size', 64);
        await setParam(page, 'epochs', 2);
        const batch = async () => Number((await page.textContent('#progress')).match(/batch (\d+)/)?.[1] ?? 0);
        const stepTo = async n => {
            await page.click('#step');
            await page.waitForFunction(n => /batch (\d+)/.test(document.querySelector('#progress').textContent)
                && Number(document.querySelector('#progress').textContent.match(/batch (\d+)/)[1]) === n, n, { timeout: 60_000 });
        };
        // From idle: the run starts, takes one step and waits.
        await stepTo(1);
        await page.waitForFunction(() => document.querySelector('#status').textContent === 'paused');
        await stepTo(2);
        await stepTo(3);
        await page.waitForTimeout(500);
        assert.equal(await batch(), 3, 'no steps between clicks');
        // Each step read its loss, and drew the map of the weights it left.
        const lossPoints = await page.getAttribute('#loss-chart polyline', 'points');
        assert.equal(lossPoints.split(' ').length, 3, lossPoints);
        assert.equal((await page.textContent('#map-frame')).trim(), 'epoch 1, batch 3');
        assert.equal(await page.getAttribute('#map-scrubber', 'max'), '2');
        assert.equal(await page.locator('#map td.cell').count(), 36);
        await shot(page, 'step', '#train');
        // Resume runs the rest.
        await page.click('#pause');
        await page.waitForSelector('#final-metrics', { timeout: 120_000 });
        assert.ok(await finalTestAuc(page) > 0.5);
        await page.context().close();
    });

    it('opens a lesson link: the parts it hides are gone and fixed, the run works, the way back shows all', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 4);
        // The teacher leaves f0 out of the model; the lesson hides the schema, so it stays out.
        await page.selectOption('#schema tr[data-column="f0"] select.role', 'ignore');
        // The teacher ticks what to hide.
        for (const name of ['data', 'schema', 'network']) await page.check(`input.lesson-hide[data-name="${name}"]`);
        const lesson = await page.getAttribute('#lesson-link', 'href');
        assert.match(lesson, /[?&]hide=data%2Cschema%2Cnetwork(&|$)/);
        assert.match(lesson, /[?&]ex=planted/);
        assert.match(lesson, /[?&]role\.f0=ignore(&|$)/);
        await page.context().close();
        // A setting alone can be hidden too, by its name.
        const student = await newPage(lesson.slice(lesson.indexOf('?')).replace('network', 'network%2Cepochs'));
        await student.waitForSelector('#schema tr[data-column]', { state: 'attached' });
        for (const hidden of ['#data', '#schema', '#network', '#param-epochs']) {
            assert.ok(await student.isHidden(hidden), `${hidden} shows`);
        }
        for (const shown of ['#model', '#train', '#inside', '#param-embedding_dim', '#task']) {
            assert.ok(await student.isVisible(shown), `${shown} is hidden`);
        }
        assert.match(await student.textContent('#lesson-banner'), /hides part of the page \(data, schema, network, epochs\)/);
        // The link keeps the lesson on reload, and the fixed setting is the teacher's.
        await student.waitForFunction(() => /[?&]hide=/.test(location.search));
        assert.equal(await student.inputValue('#param-epochs'), '4');
        await train(student);
        assert.ok(await finalTestAuc(student) > 0.8);
        // Five fields: f0 was left out by the link, with the schema hidden.
        assert.equal(await student.locator('#map td.cell').count(), 25);
        assert.equal(await student.locator('#map td.cell[data-a="f0"]').count(), 0);
        await shot(student, 'lesson');
        await student.click('#unhide');
        await student.waitForFunction(() => !/[?&]hide=/.test(location.search));
        await student.waitForSelector('#data', { state: 'visible' });
        assert.equal(await student.locator('#lesson-banner').count(), 0);
        await student.context().close();
        // An unknown name is reported, and nothing is hidden for it.
        const wrong = await newPage('?hide=nope');
        assert.match(await wrong.textContent('#error'), /hide: no part of the page is called `nope`/);
        assert.ok(await wrong.isVisible('#data'));
        await wrong.context().close();
    });

    it('keeps finished runs in the browser: listed after a reload, reopened, compared, deleted', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 2);
        const rows = () => page.$$eval('#saved-runs tbody tr', trs => trs.map(t => ({ key: t.dataset.runKey, score: t.dataset.score })));
        const waitForRuns = n => page.waitForFunction(n => document.querySelectorAll('#saved-runs tbody tr').length === n, n, { timeout: 30_000 });
        await train(page);
        const first = await page.getAttribute('#final-test', 'data-auc');
        await waitForRuns(1);
        await setParam(page, 'seed', 7);
        await train(page);
        await waitForRuns(2);
        const bytes = Number(await page.getAttribute('#runs-usage', 'data-bytes'));
        measurements.saved_run_bytes = bytes / 2;
        assert.ok(bytes > 1000, `stored ${bytes} bytes`);
        // Kept across a reload (IndexedDB), newest first.
        await page.reload();
        await waitForRuns(2);
        const listed = await rows();
        const oldest = listed[1];
        assert.equal(oldest.score, first);
        // Reopened: its scores, curves and model (maps) come back.
        await page.click(`#saved-runs tr[data-run-key="${oldest.key}"] button.run-open`);
        await page.waitForFunction(() => /^loaded /.test(document.querySelector('#status').textContent), null, { timeout: 30_000 });
        assert.equal(await page.getAttribute('#final-test', 'data-auc'), first);
        assert.ok(await page.locator('#loss-chart polyline').count() >= 1);
        assert.ok(await page.locator('#map td.cell').count() > 0);
        // Compared: a validation curve per ticked run.
        for (const box of await page.$$('#saved-runs input.run-compare')) await box.check();
        assert.equal(await page.locator('#runs-chart polyline').count(), 2);
        await assertLegendColours(page, '#runs-chart');
        // Both runs are QNN_planted: the legend tells them apart by the time the table shows.
        const legend = await page.$$eval('#runs-chart .legend li', ls => ls.map(l => l.textContent));
        for (const saved of await page.$$eval('#saved-runs tbody tr td:nth-child(3)', ts => ts.map(t => t.textContent))) {
            assert.ok(legend.some(l => l.startsWith(`QNN_planted ${saved.slice(11)} (AUC)`)), `${saved} in ${legend}`);
        }
        await shot(page, 'runs', '#runs');
        // Deleted, for good.
        await page.click(`#saved-runs tr[data-run-key="${oldest.key}"] button.run-delete`);
        await waitForRuns(1);
        await page.reload();
        await waitForRuns(1);
        assert.notEqual((await rows())[0].key, oldest.key);
        await page.context().close();
    });

    it('says so when the browser storage is full, and the run stays on the page', async () => {
        const page = await newPage();
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1000 });
        await pickExample(page, 'planted');
        await setParam(page, 'epochs', 1);
        await train(page);
        await page.waitForSelector('#error', { timeout: 30_000 });
        assert.match(await page.textContent('#error'), /this run was not saved in the browser .*it stays on this page/);
        assert.ok(await finalTestAuc(page) > 0);
        assert.equal(await page.locator('#saved-runs tbody tr').count(), 0);
        await page.context().close();
    });

    it('works offline after the first visit, and can be installed as an app', async () => {
        // Its own server, closed halfway: afterwards only the service worker's copy can answer.
        const own = await serve(dist);
        const ownOrigin = `http://127.0.0.1:${own.address().port}`;
        // A profile on disk: an incognito context is never installable.
        const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-profile-'));
        const context = await chromium.launchPersistentContext(profile, {
            executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs, viewport: { width: 1200, height: 900 },
        });
        const page = context.pages()[0] ?? await context.newPage();
        try {
            await page.goto(`${ownOrigin}/?ex=planted`);
            await page.waitForFunction(() => document.documentElement.dataset.offline === 'ready', null, { timeout: 60_000 });
            // The service worker caches files that exist, every bundled example among them.
            const sw = fs.readFileSync(path.join(dist, 'sw.js'), 'utf8');
            const shell = [...sw.matchAll(/'\.\/([^']*)'/g)].map(m => m[1]).filter(f => f !== '');
            for (const f of shell) assert.ok(fs.existsSync(path.join(dist, f)), `sw.js caches ${f}, which the build lacks`);
            const examples = fs.readdirSync(path.join(dist, 'examples'), { recursive: true })
                .filter(f => f.endsWith('.csv')).map(f => `examples/${f}`);
            for (const f of examples) assert.ok(shell.includes(f), `sw.js does not cache ${f}`);
            const cdp = await context.newCDPSession(page);
            const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
            assert.deepEqual(installabilityErrors, []);
            await new Promise(resolve => { own.close(resolve); own.closeAllConnections(); });
            const started = Date.now();
            await page.reload();
            await page.waitForSelector('#schema tr[data-column]');
            measurements.offline_reload_ms = Date.now() - started;
            await setParam(page, 'epochs', 1);
            await train(page);
            assert.ok(await finalTestAuc(page) > 0.5);
            await shot(page, 'offline', '#train');
        } finally {
            await context.close();
            if (own.listening) { own.close(); own.closeAllConnections(); }
        }
    });

    it('takes a dropped CSV, read in slices with a progress bar', async () => {
        const page = await newPage();
        // 3 slices of 8 MiB: the progress bar shows while they are read.
        const rows = 600_000;
        const dataTransfer = await page.evaluateHandle(n => {
            const lines = ['city,price,label'];
            for (let i = 0; i < n; i++) lines.push(`c${i % 50},${(i % 97) / 7},${i % 3 === 0 ? 1 : 0}`);
            const dt = new DataTransfer();
            dt.items.add(new File([lines.join('\n') + '\n'], 'dropped.csv', { type: 'text/csv' }));
            return dt;
        }, rows);
        // Every value the progress bar shows, however briefly.
        await page.evaluate(() => {
            window.progressSeen = [];
            new MutationObserver(() => {
                const bar = document.querySelector('#load-progress');
                if (bar) window.progressSeen.push(Number(bar.getAttribute('value')));
            }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
        });
        await page.dispatchEvent('#dropzone', 'drop', { dataTransfer });
        await page.waitForSelector('#schema tr[data-column="price"]', { timeout: 60_000 });
        const seen = await page.evaluate(() => window.progressSeen);
        assert.ok(seen.some(v => v > 0 && v < 1), `no partial progress in ${seen}`);
        assert.equal(Number(await page.getAttribute('#load-progress', 'value')), 1);
        assert.match(await page.textContent('#profile-note'), /200000 rows profiled .* of dropped\.csv/);
        assert.equal(await page.inputValue('#schema tr[data-column="price"] select.role'), 'numeric');
        assert.equal(await page.inputValue('#schema tr[data-column="label"] select.role'), 'label');
        await page.context().close();
    });

    it('refuses a file too big for the tab with a message, and keeps working', async () => {
        const page = await newPage();
        // Make one small file claim 3 GB: the page must refuse it before reading a byte.
        await page.evaluate(() => {
            const size = Object.getOwnPropertyDescriptor(Blob.prototype, 'size');
            Object.defineProperty(Blob.prototype, 'size', {
                get() { return this.name === 'huge.csv' ? 3e9 : size.get.call(this); },
            });
        });
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-e2e-')), 'huge.csv');
        fs.writeFileSync(file, 'a,label\nx,1\n');
        await page.setInputFiles('#file-input', file);
        await page.waitForSelector('#error');
        assert.match(await page.textContent('#error .error-text'), /huge\.csv is 3000 MB: too big for a browser tab .* `qnn` command-line tool/);
        await page.click('#error .dismiss');
        // A file set: two files that fit one by one but not together, and more files than the
        // page uses, are refused from their sizes and count alone.
        await page.evaluate(() => {
            const size = Object.getOwnPropertyDescriptor(Blob.prototype, 'size');
            Object.defineProperty(Blob.prototype, 'size', {
                get() { return /^half\d\.csv$/.test(this.name) ? 6e8 : size.get.call(this); },
            });
        });
        const dir = path.dirname(file);
        const set = names => names.map(n => { const f = path.join(dir, n); fs.writeFileSync(f, 'a,label\nx,1\n'); return f; });
        await page.setInputFiles('#file-input', set(['half1.csv', 'half2.csv']));
        await page.waitForSelector('#error');
        assert.match(await page.textContent('#error .error-text'), /2 files of 1200 MB together: too big for a browser tab/);
        await page.click('#error .dismiss');
        await page.setInputFiles('#file-input', set(['a.csv', 'b.csv', 'c.csv', 'd.csv']));
        await page.waitForSelector('#error');
        assert.match(await page.textContent('#error .error-text'), /4 files at once: give one CSV/);
        await pickExample(page, 'planted');
        await page.context().close();
    });

    it('takes a crafted link apart: names what it ignored, refuses absurd sizes, keeps working', async () => {
        const hostile = encodeURIComponent('<img src=x onerror="window.pwned=1">');
        const page = await newPage(`?ex=${hostile}&E=4000000000&R=16000000&lr=NaN&H=oops&vf=2&be=quantum&sh=maybe&seed=-1&width.f1=4`);
        await page.waitForSelector('#error');
        const ignored = await page.textContent('#error .error-text');
        assert.match(ignored, /some settings in the link were ignored/);
        for (const key of ['ex: no example `<img src=x onerror="window.pwned=1">`', 'embedding_dim: 4000000000 is more than QNN Lab allows', 'learning_rate', 'num_heads', 'vf:', 'be:', 'shuffle', 'seed', 'width.f1: column roles and widths apply to an example, and the link opens none']) {
            assert.ok(ignored.includes(key), `${key} missing from: ${ignored}`);
        }
        // Shown as text, never run.
        assert.equal(await page.evaluate(() => window.pwned), undefined);
        await page.click('#error .dismiss');
        // Sizes in range whose product is absurd are refused by the memory estimate before
        // anything is allocated.
        await pickExample(page, 'planted');
        assert.equal(await page.inputValue('#param-num_row'), '16000000');
        await page.click('#start', { noWaitAfter: true });
        await page.waitForSelector('#error', { timeout: 60_000 });
        assert.match(await page.textContent('#error .error-text'), /training needs about .* more than the 4\.0 GiB available|overflow/);
        await page.click('#error .dismiss');
        // And the page still trains.
        await page.click('button[data-preset="quick demo"]');
        await setParam(page, 'epochs', 1);
        await train(page);
        assert.ok(await finalTestAuc(page) > 0.8);
        await page.context().close();
    });

    it('restores settings, example, seed and schema edits from a shared link', async () => {
        const page = await newPage();
        await pickExample(page, 'tiny');
        await page.fill('#min-categr-count', '3');
        await page.dispatchEvent('#min-categr-count', 'change');
        await setParam(page, 'seed', 7);
        await setParam(page, 'num_heads', 2);
        await page.click('button[data-preset="quick demo"]');
        await setParam(page, 'seed', 7);
        const row = column => `#schema tr[data-column="${column}"]`;
        const guessed = await page.inputValue(`${row('price')} select.role`);
        assert.equal(guessed, 'numeric');
        await page.selectOption(`${row('time_stamp')} select.role`, 'ignore');
        await page.selectOption(`${row('price')} select.role`, 'categorical');
        await page.fill(`${row('userid')} input.width`, '8');
        await page.dispatchEvent(`${row('userid')} input.width`, 'change');
        const link = await page.getAttribute('#share-link', 'href');
        assert.match(link, /seed=7/);
        // Only what differs from the example as it loads.
        const edits = [...new URL(link).searchParams].filter(([k]) => /^(role|width)\./.test(k));
        assert.deepEqual(edits, [['role.time_stamp', 'ignore'], ['role.price', 'categorical'], ['width.userid', '8']]);
        await page.context().close();
        // The link as shared, with two edits the example cannot take.
        const again = await newPage(`${link.slice(link.indexOf('?'))}&role.nope=ignore&width.clk=4`);
        await again.waitForSelector('#schema tr[data-column]');
        assert.equal(await again.inputValue('#param-seed'), '7');
        assert.equal(await again.inputValue('#min-categr-count'), '3');
        assert.equal(await again.getAttribute('button[data-example="tiny"]', 'class'), 'example selected');
        // tiny has its own valid/test files: the split names them.
        assert.match(await again.textContent('#split-files'), /valid_sample\.csv/);
        assert.equal(await again.inputValue(`${row('time_stamp')} select.role`), 'ignore');
        assert.equal(await again.inputValue(`${row('price')} select.role`), 'categorical');
        assert.equal(await again.inputValue(`${row('userid')} input.width`), '8');
        assert.equal(await again.inputValue(`${row('adgroup_id')} input.width`), '');
        const ignored = await again.textContent('#error .error-text');
        assert.match(ignored, /some settings in the link were ignored/);
        assert.ok(ignored.includes('role.nope: the example has no column `nope`'), ignored);
        assert.ok(ignored.includes('width.clk: `clk` is used as label, and only features have a width'), ignored);
        // The restored page links to itself, less what it ignored.
        const relinked = new URL(await again.getAttribute('#share-link', 'href'));
        assert.deepEqual([...relinked.searchParams].filter(([k]) => /^(role|width)\./.test(k)), edits);
        await again.context().close();
    });

    it('explains bad input in the page and keeps working', async () => {
        const page = await newPage();
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-e2e-'));
        const upload = async (name, text, input = '#file-input') => {
            const file = path.join(tmp, name);
            fs.writeFileSync(file, text);
            await page.setInputFiles(input, file);
        };
        const errorText = async () => {
            await page.waitForSelector('#error');
            const t = await page.textContent('#error .error-text');
            await page.click('#error .dismiss');
            return t;
        };
        await upload('ragged.csv', 'a,b,label\n1,2,0\n3,1\n');
        assert.match(await errorText(), /ragged\.csv:3: 2 fields, the header has 3/);
        await upload('empty.csv', '');
        assert.match(await errorText(), /empty/);
        await upload('nolabel.csv', 'a,b\nx,1.5\ny,2.5\n');
        assert.match(await errorText(), /no column looks like a 0\/1 click label/);
        // Saved with semicolons: one column, and the page says why.
        await upload('semicolons.csv', 'a;b;label\nx;1.5;0\ny;2.5;1\n');
        assert.match(await errorText(), /semicolons\.csv: one column only; the header looks like 3 columns separated by `;`: QNN Lab reads comma-separated files/);
        // A label of numbers other than 0 and 1 is a regression's, and the page says why.
        await upload('labels.csv', 'a,label\nx,0\ny,2\nz,1\nw,0\n');
        await page.waitForFunction(() => document.querySelector('#task').value === 'regression');
        assert.equal(await page.inputValue('#schema tr[data-column="label"] select.role'), 'label');
        assert.match(await page.textContent('#task-reason'), /set to regression because the label `label` holds/);
        // Forced back to clicks, training refuses the 2 with its row.
        await page.selectOption('#task', 'binary_classification');
        await page.click('#start', { noWaitAfter: true });
        assert.match(await errorText(), /labels\.csv:3: .*'2' is not 0 or 1 \(task: regression takes any number\)/);
        await upload('damaged.qnn', 'this is not a model', '#model-input');
        await page.waitForSelector('#error');
        await shot(page, 'error', '#error');
        assert.match(await errorText(), /damaged\.qnn: not a valid QNN Lab model file: it does not start with a safetensors header/);
        // Hostile model files: NaN weights (a well-formed file the fuzzer made), the same file
        // cut short, and with one weight byte flipped.
        const nan = fs.readFileSync(path.join(repo, 'tests/fixtures/models/nan_weights.qnn'));
        const flipped = Buffer.from(nan);
        flipped[flipped.length - 50] ^= 0xff;
        for (const [name, bytes, why] of [
            ['nan.qnn', nan, /nan\.qnn: .*holds NaN at index \d+: the weights are not usable/],
            ['cut.qnn', nan.subarray(0, 3000), /cut\.qnn: not a valid QNN Lab model file: the file ends early/],
            ['flipped.qnn', flipped, /flipped\.qnn: not a valid QNN Lab model file: the weights do not match their checksum/],
        ]) {
            const file = path.join(tmp, name);
            fs.writeFileSync(file, bytes);
            await page.setInputFiles('#model-input', file);
            assert.match(await errorText(), why);
        }
        // Still works afterwards.
        await pickExample(page, 'criteo');
        assert.equal(await page.locator('#error').count(), 0);
        assert.equal(await page.inputValue('#schema tr[data-column="label"] select.role'), 'label');
        await page.context().close();
    });

    it('downloads the model, opens it and a `qnn train` model, and predicts', async () => {
        const page = await newPage();
        await pickExample(page, 'tiny');
        await setParam(page, 'epochs', 2);
        await train(page);
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
        const modelPath = path.join(out, 'browser_tiny.qnn');
        await download.saveAs(modelPath);
        assert.ok(fs.statSync(modelPath).size > 1000);
        // The browser's model predicts with the CLI.
        const preds = path.join(out, 'cli_predictions.csv');
        execFileSync(qnnBin, ['predict', '--model', modelPath, '--data', path.join(repo, 'static/examples/tiny_csv/test_sample.csv'), '--out', preds]);
        const cliRows = fs.readFileSync(preds, 'utf8').trim().split('\n');
        assert.equal(cliRows.length, 101);
        // The page's served prediction for the sample test rows is the downloaded model's
        // (batch norm on: the dropout passes shown beside it must not move its running
        // statistics). The page shows 4 decimals.
        const header = cliRows[0].split(',');
        const probability = header.indexOf('probability');
        const served = await page.$$eval('#samples tbody tr', rows => rows.map(r => Number(r.children[2].textContent)));
        assert.ok(served.length >= 5, `${served.length} sample rows`);
        served.forEach((p, i) => {
            const cli = Number(cliRows[i + 1].split(',')[probability]);
            assert.ok(Math.abs(p - cli) <= 6e-5, `sample row ${i + 1}: page ${p}, qnn predict ${cli}`);
        });
        // A model made by `qnn train` opens in the page.
        const cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-cli-'));
        execFileSync(qnnBin, ['train', '--config', path.join(repo, 'crates/cli/configs/tiny_csv'), '--expid', 'QNN_tiny'], { cwd: repo });
        const cliModel = path.join(repo, 'checkpoints/tiny_csv/QNN_tiny.qnn');
        await page.setInputFiles('#model-input', cliModel);
        await page.waitForFunction(() => document.querySelector('#loaded-model').textContent.includes('QNN_tiny.qnn'));
        // What the file records about its run, as the worker's typed message carries it.
        assert.match(await page.textContent('#loaded-model'), /experiment QNN_tiny on dataset tiny_csv, trained by qnn \S+ for \d+ epoch\(s\); validation AUC 0\.\d{4}, logloss \d\.\d{4}; test AUC/);
        assert.match(await page.textContent('#loaded-model'), /16 fields/);
        assert.equal(await page.locator('#map td.cell').count(), 256);
        await page.setInputFiles('#predict-input', path.join(repo, 'static/examples/tiny_csv/test_sample.csv'));
        await page.waitForFunction(() => document.querySelector('#predictions').textContent.includes('100 rows predicted'));
        assert.match(await page.textContent('#predictions'), /AUC/);
        await shot(page, 'files', '#files');
        // A model-zoo network made by `qnn train` (FuxiCTR's DeepFM): the page predicts with it
        // exactly as `qnn predict` does and says why there is no interaction map.
        execFileSync(qnnBin, ['train', '--config', path.join(repo, 'crates/cli/configs/tiny_csv'), '--expid', 'DeepFM_tiny'], { cwd: repo });
        const zooModel = path.join(repo, 'checkpoints/tiny_csv/DeepFM_tiny.qnn');
        const zooPreds = path.join(cliDir, 'deepfm.csv');
        execFileSync(qnnBin, ['predict', '--model', zooModel, '--data', path.join(repo, 'static/examples/tiny_csv/test_sample.csv'), '--out', zooPreds]);
        await page.setInputFiles('#model-input', zooModel);
        await page.waitForFunction(() => document.querySelector('#loaded-model').textContent.includes('DeepFM_tiny.qnn'));
        assert.match(await page.textContent('#loaded-model'), /DeepFM_tiny\.qnn: DeepFM, experiment DeepFM_tiny on dataset tiny_csv/);
        assert.equal(await page.locator('#map td.cell').count(), 0);
        assert.match(await page.textContent('#map-placeholder'), /A DeepFM network has no interaction maps/);
        assert.ok(await page.locator('#map .controls').isHidden(), 'no map controls without maps');
        assert.equal(await page.locator('#samples tbody tr').count(), 0, "the previous model's sample rows are gone");
        // The QNN model's predictions of the same file are still shown: wait for them to change.
        const before = await page.textContent('#predictions pre');
        await page.setInputFiles('#predict-input', path.join(repo, 'static/examples/tiny_csv/test_sample.csv'));
        await page.waitForFunction(old => document.querySelector('#predictions pre')?.textContent !== old, before);
        assert.match(await page.textContent('#predictions'), /100 rows predicted/);
        const zooRows = fs.readFileSync(zooPreds, 'utf8').trim().split('\n');
        const zooHeader = zooRows[0].split(',');
        const shownHead = await page.textContent('#predictions pre');
        // The page shows the first rows of its CSV: their probabilities are the CLI's (native and
        // wasm builds differ in the last bits only).
        const pageLines = shownHead.split('\n').filter(l => l.includes(','));
        const pageHeader = pageLines[0].split(',');
        assert.equal(pageHeader.at(-1), 'probability');
        for (let i = 1; i < Math.min(pageLines.length, 11); i++) {
            const a = Number(pageLines[i].split(',').at(-1));
            const b = Number(zooRows[i].split(',')[zooHeader.indexOf('probability')]);
            assert.ok(Math.abs(a - b) <= 1e-5, `row ${i}: page ${a}, qnn predict ${b}`);
        }
        await shot(page, 'zoo-model', '#inside');
        fs.rmSync(cliDir, { recursive: true, force: true });
        await page.context().close();
    });

    it('predicts with a grouped model: gAUC with the group column, the ungrouped metrics without it, as qnn evaluate', async () => {
        const page = await newPage();
        // userid becomes a meta column that groups the rows (gAUC per user), not a field.
        const { dir, configs: grouped } = editedTinyConfigs('qnn-grouped-', {
            dataset: t => t.replace('- {name: [userid, adgroup_id,', '- {name: userid, active: True, dtype: str, type: meta}\n        - {name: [adgroup_id,'),
            model: t => t.replace("metrics: ['logloss', 'AUC']", "metrics: ['logloss', 'AUC', 'gAUC', 'avgAUC']\n    group_id: userid"),
        });
        assert.match(fs.readFileSync(path.join(grouped, 'dataset_config.yaml'), 'utf8'), /type: meta/);
        assert.match(fs.readFileSync(path.join(grouped, 'model_config.yaml'), 'utf8'), /group_id: userid/);
        execFileSync(qnnBin, ['train', '--config', grouped, '--expid', 'QNN_tiny'], { cwd: dir });
        const modelFile = path.join(dir, 'checkpoints/tiny_csv/QNN_tiny.qnn');
        const test = path.join(repo, 'static/examples/tiny_csv/test_sample.csv');
        // The same rows without the userid column.
        const lines = fs.readFileSync(test, 'utf8').trim().split('\n').map(l => l.split(','));
        const at = lines[0].indexOf('userid');
        assert.ok(at >= 0);
        const noUsers = path.join(dir, 'no_users.csv');
        fs.writeFileSync(noUsers, lines.map(cells => cells.filter((_, i) => i !== at).join(',')).join('\n') + '\n');
        const cli = file => execFileSync(qnnBin, ['evaluate', '--model', modelFile, '--data', file], { cwd: dir, encoding: 'utf8' });
        // `qnn evaluate` prints `AUC: 0.71…`, the page `AUC 0.71…`.
        const metric = (text, name) => Number(text.match(new RegExp(`(?:^|[ :;,])${name}:? ([0-9.]+)`))[1]);

        await page.setInputFiles('#model-input', modelFile);
        await page.waitForFunction(() => document.querySelector('#loaded-model').textContent.includes('QNN_tiny.qnn'));
        await page.setInputFiles('#predict-input', test);
        await page.waitForFunction(() => document.querySelector('#predictions').textContent.includes('100 rows predicted'));
        const withGroups = await page.textContent('#predictions');
        assert.match(withGroups, /gAUC/);
        const before = await page.textContent('#predictions pre');
        await page.setInputFiles('#predict-input', noUsers);
        await page.waitForFunction(old => document.querySelector('#predictions pre')?.textContent !== old, before);
        const without = await page.textContent('#predictions');
        assert.match(without, /100 rows predicted/);
        assert.doesNotMatch(without, /gAUC/);
        const cliWithout = cli(noUsers);
        assert.doesNotMatch(cliWithout, /gAUC/);
        for (const name of ['AUC', 'logloss']) {
            const [a, b] = [metric(without, name), metric(cliWithout, name)];
            assert.ok(Math.abs(a - b) < 1e-4, `${name}: page ${a}, qnn evaluate ${b}\n${without}\n${cliWithout}`);
        }
        assert.ok(Math.abs(metric(withGroups, 'AUC') - metric(cliWithout, 'AUC')) < 1e-4, 'the same rows, the same AUC');
        // Clicks only: no AUC of any kind is defined, logloss is, and the page says why the
        // others are missing, as `qnn evaluate` warns.
        const label = lines[0].indexOf('clk');
        const clicks = lines.filter((cells, i) => i === 0 || cells[label] === '1');
        assert.ok(clicks.length > 2);
        const clicksOnly = path.join(dir, 'clicks_only.csv');
        fs.writeFileSync(clicksOnly, clicks.map(cells => cells.join(',')).join('\n') + '\n');
        const shown = await page.textContent('#predictions pre');
        await page.setInputFiles('#predict-input', clicksOnly);
        await page.waitForFunction(old => document.querySelector('#predictions pre')?.textContent !== old, shown);
        const oneClass = await page.textContent('#predictions');
        assert.match(oneClass, new RegExp(`${clicks.length - 1} rows predicted; logloss [0-9.]+; AUC is undefined: only one class is present in the labels; gAUC is undefined: [^;]+; avgAUC is undefined: `));
        const evaluated = spawnSync(qnnBin, ['evaluate', '--model', modelFile, '--data', clicksOnly], { cwd: dir, encoding: 'utf8' });
        assert.equal(evaluated.status, 0, evaluated.stderr);
        assert.ok(Math.abs(metric(oneClass, 'logloss') - metric(evaluated.stdout, 'logloss')) < 1e-4, `${oneClass}\n${evaluated.stdout}`);
        assert.doesNotMatch(evaluated.stdout, /AUC/);
        assert.match(evaluated.stderr, /clicks_only\.csv: AUC is undefined: only one class/);
        fs.rmSync(dir, { recursive: true, force: true });
        await page.context().close();
    });

    it('gives the same test AUC as `qnn train` on the exported configs, one field with its own width', async () => {
        const page = await newPage();
        await pickExample(page, 'planted');
        await page.selectOption('#backend', 'cpu');
        // Native and wasm builds differ in the last bits (native multiplies with faer's FMA
        // kernels and the system libm; wasm with Flex's matmul, no FMA). After one epoch at lr
        // 1e-3 the planted run is still early in its learning, where changing any one exported
        // key moves the test AUC by 1.2e-3 (embedding_regularizer ×2) to 8e-2 (batch_norm off);
        // seed + 1: 2.4e-2 (measured 2026-11-29 with a throwaway copy of this test that edited one
        // key of the exported model_config.yaml at a time). Browser and `qnn train` agree to 4e-7
        // (2026-12-01). They differed by 1.6e-3 while the bias before a training-mode batch norm
        // got its rounding-noise gradient, which Adam turns into lr-sized steps of random sign;
        // it is now exactly zero, as the mathematics says.
        await setParam(page, 'learning_rate', 0.001);
        await setParam(page, 'epochs', 1);
        // A larger test split: each AUC step (one swapped pair) is smaller.
        await page.fill('#test-fraction', '0.3');
        await page.dispatchEvent('#test-fraction', 'change');
        // Field f1 with its own embedding width (the schema table's last column).
        await page.fill('#schema tr[data-column="f1"] input.width', '4');
        await page.dispatchEvent('#schema tr[data-column="f1"] input.width', 'change');
        assert.ok(await page.isDisabled('#schema tr[data-column="label"] input.width'), 'the label has no width');
        await train(page);
        assert.equal(await page.locator('#map td.cell').count(), 36, 'six fields, one of them 4 wide');
        const browserAuc = await finalTestAuc(page);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-parity-'));
        const downloads = [];
        page.on('download', d => downloads.push(d));
        await page.click('#export-configs');
        await page.waitForFunction(() => true);
        while (downloads.length < 2) await page.waitForTimeout(100);
        for (const d of downloads) await d.saveAs(path.join(dir, d.suggestedFilename()));
        const datasetYaml = fs.readFileSync(path.join(dir, 'dataset_config.yaml'), 'utf8');
        assert.match(datasetYaml, /min_categr_count: 1/);
        assert.match(datasetYaml, /split_type: random/);
        assert.match(datasetYaml, /name: f1,[^}]*embedding_dim: 4/);
        assert.equal(datasetYaml.match(/embedding_dim/g).length, 1, datasetYaml);
        fs.copyFileSync(path.join(repo, 'static/examples/planted/planted.csv'), path.join(dir, 'planted.csv'));
        const stdout = execFileSync(qnnBin, ['train', '--config', dir, '--expid', 'QNN_planted'], { cwd: dir, encoding: 'utf8' });
        const cliAuc = Number(stdout.match(/test:.*AUC: ([0-9.]+)/)[1]);
        measurements.parity = { browser_test_auc: browserAuc, cli_test_auc: cliAuc };
        assert.ok(Math.abs(browserAuc - cliAuc) < 1e-4, `browser ${browserAuc} vs qnn train ${cliAuc}`);
        await page.context().close();
    });

    it('opens FuxiCTR configs: each key explained, trained on the page data as qnn train trains them', async () => {
        const page = await newPage();
        await pickExample(page, 'tiny');
        const configs = path.join(repo, 'crates/cli/configs/tiny_csv');
        await page.setInputFiles('#config-files', ['model_config.yaml', 'dataset_config.yaml'].map(f => path.join(configs, f)));
        await page.waitForSelector('#config-keys tr[data-key="embedding_dim"]');
        assert.deepEqual(await page.$$eval('#config-expid option', os => os.map(o => o.value)), ['QNN_tiny', 'DeepFM_tiny']);
        const row = await page.$$eval('#config-keys tr[data-key="embedding_dim"] td', tds => tds.map(t => t.textContent));
        assert.equal(row[1], '8');
        assert.equal(row[2], 'model_config.yaml');
        assert.ok(row[3].length > 10, `help: ${row[3]}`);
        assert.equal(await page.textContent('#config-keys tr[data-key="min_categr_count"] td:nth-child(3)'), 'dataset_config.yaml');
        assert.match(await page.textContent('#config-command'), /^qnn train --config DIR --expid QNN_tiny/);
        assert.equal((await page.textContent('#config-missing')).trim(), '');
        await shot(page, 'configs', '#configs');
        await page.click('#config-start');
        await page.waitForSelector('#final-metrics', { timeout: 240_000 });
        const browserAuc = await finalTestAuc(page);
        // qnn train on the same files, from a folder where the configs' data paths lead.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-configs-'));
        fs.symlinkSync(path.join(repo, 'static'), path.join(dir, 'static'));
        const stdout = execFileSync(qnnBin, ['train', '--config', configs, '--expid', 'QNN_tiny'], { cwd: dir, encoding: 'utf8' });
        const cliAuc = Number(stdout.match(/test:.*AUC: ([0-9.]+)/)[1]);
        measurements.configs = { browser_test_auc: browserAuc, cli_test_auc: cliAuc };
        assert.ok(Math.abs(browserAuc - cliAuc) < 1e-4, `browser ${browserAuc} vs qnn train ${cliAuc}`);
        // A misspelt key is named with its file.
        const bad = path.join(dir, 'model_config.yaml');
        fs.writeFileSync(bad, fs.readFileSync(path.join(configs, 'model_config.yaml'), 'utf8').replace('embedding_dim: 8', 'embeding_dim: 8'));
        await page.setInputFiles('#config-files', [bad, path.join(configs, 'dataset_config.yaml')]);
        await page.waitForSelector('#error');
        assert.match(await page.textContent('#error'), /model_config\.yaml:\d+: key `embeding_dim`/);
        await page.context().close();
    });

    it('trains FuxiCTR configs that give a field its own embedding width, as qnn train does', async () => {
        const page = await newPage();
        await pickExample(page, 'tiny');
        // userid 4 wide through the model config's feature_specs, one head (D = Σ widths).
        const { dir, configs: widths } = editedTinyConfigs('qnn-widths-', {
            model: t => t.replace('embedding_dim: 8\n', 'embedding_dim: 8\n    feature_specs: [{name: userid, embedding_dim: 4}]\n')
                .replace('num_heads: 2', 'num_heads: 1'),
        });
        assert.match(fs.readFileSync(path.join(widths, 'model_config.yaml'), 'utf8'), /feature_specs: \[\{name: userid, embedding_dim: 4\}\][\s\S]*num_heads: 1/);
        await page.setInputFiles('#config-files', ['model_config.yaml', 'dataset_config.yaml'].map(f => path.join(widths, f)));
        await page.waitForSelector('#config-keys tr[data-key="feature_specs"]');
        assert.equal(await page.textContent('#config-keys tr[data-key="feature_specs"] td:nth-child(3)'), 'model_config.yaml');
        await page.click('#config-start');
        await page.waitForSelector('#final-metrics', { timeout: 240_000 });
        const browserAuc = await finalTestAuc(page);
        const stdout = execFileSync(qnnBin, ['train', '--config', widths, '--expid', 'QNN_tiny'], { cwd: dir, encoding: 'utf8' });
        const cliAuc = Number(stdout.match(/test:.*AUC: ([0-9.]+)/)[1]);
        measurements.field_widths = { browser_test_auc: browserAuc, cli_test_auc: cliAuc };
        assert.ok(Math.abs(browserAuc - cliAuc) < 1e-4, `browser ${browserAuc} vs qnn train ${cliAuc}`);
        fs.rmSync(dir, { recursive: true, force: true });
        await page.context().close();
    });

    it('trains a regression on the MovieLens ratings: MSE, values not probabilities, as qnn train', async () => {
        const page = await newPage();
        await pickExample(page, 'ratings');
        assert.equal(await page.inputValue('#task'), 'regression');
        const roles = Object.fromEntries(await page.$$eval('#schema tr[data-column]', rows =>
            rows.map(r => [r.dataset.column, r.querySelector('select.role').value])));
        assert.equal(roles.rating, 'label');
        assert.equal(roles.clicked, 'ignore');
        assert.match(page.url(), /[?&]task=regression/);
        await setParam(page, 'epochs', 6);
        await train(page);
        const mse = Number(await page.getAttribute('#final-test', 'data-mse'));
        // A model of probabilities would be off by about 2.7 stars (MSE ≈ 8); the ratings'
        // variance is 1.25.
        assert.ok(mse > 0 && mse < 2.5, `test MSE ${mse}`);
        assert.match(await page.textContent('#final-test'), /MSE [0-9.]+, RMSE [0-9.]+, MAE [0-9.]+/);
        assert.ok(await page.locator('#metrics-chart polyline[data-series="valid MSE"]').count() === 1);
        const served = await page.$$eval('#samples tbody tr', rows => rows.map(r => Number(r.children[2].textContent)));
        assert.ok(served.length >= 5 && served.every(p => p > 1.5 && p < 6), `served ${served}`);
        await shot(page, 'regression-train', '#train');
        // The exported configs train the same run with qnn train.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qnn-ratings-'));
        const downloads = [];
        page.on('download', d => downloads.push(d));
        await page.click('#export-configs');
        while (downloads.length < 2) await page.waitForTimeout(100);
        for (const d of downloads) await d.saveAs(path.join(dir, d.suggestedFilename()));
        assert.match(fs.readFileSync(path.join(dir, 'model_config.yaml'), 'utf8'), /task: regression/);
        fs.copyFileSync(path.join(repo, 'static/examples/movielens/movielens_sample.csv'), path.join(dir, 'movielens_sample.csv'));
        const expid = fs.readFileSync(path.join(dir, 'model_config.yaml'), 'utf8').match(/^(QNN_\w+):/m)[1];
        const stdout = execFileSync(qnnBin, ['train', '--config', dir, '--expid', expid], { cwd: dir, encoding: 'utf8' });
        const cliMse = Number(stdout.match(/test:\s+MSE: ([0-9.]+)/)[1]);
        measurements.regression = { browser_test_mse: mse, cli_test_mse: cliMse };
        assert.ok(Math.abs(mse - cliMse) <= 1e-4 * cliMse, `browser ${mse} vs qnn train ${cliMse}`);
        await page.context().close();
    });

    it('trains every bundled example for an epoch on the chosen backend', async () => {
        // Timings are a benchmark (tests/e2e/measure.mjs), not asserted here.
        const backend = webgpu ? 'webgpu' : 'cpu';
        for (const ex of ['planted', 'tiny', 'criteo', 'avazu', 'movielens', 'ratings']) {
            const page = await newPage(`?ex=${ex}&be=${backend}&ep=1`);
            await page.waitForSelector('#schema tr[data-column]');
            await page.click('#start', { noWaitAfter: true });
            await page.waitForFunction(() => document.querySelector('#final-metrics') || document.querySelector('#error'), null, { timeout: 300_000, polling: 200 });
            // The error's text only when there is one: reading a missing element waits 30 s.
            const error = page.locator('#error');
            if (await error.count() > 0) assert.fail(`${ex}: ${await error.textContent()}`);
            assert.equal(await page.textContent('#backend-in-use'), webgpu ? 'WebGPU' : 'CPU (wasm)');
            assert.ok(Number(await page.getAttribute('#first-epoch', 'data-rate')) > 0, ex);
            if (ex === 'planted') {
                // The planted pair is easy to learn (one epoch on the CPU: test AUC ≈ 0.91); a
                // wrong kernel on this backend trains to chance.
                const auc = await finalTestAuc(page);
                measurements[`planted_one_epoch_test_auc_${backend}`] = auc;
                assert.ok(auc > 0.85, `planted, one epoch on ${backend}: test AUC ${auc}`);
            }
            await page.context().close();
        }
    });

    it("runs the worker's static constructors once, not on every call into its wasm", t => {
        // wasm-ld wraps every export of a module that never calls __wasm_call_ctors itself in a
        // `<name>.command_export` function that runs all constructors first (CubeCL registers its
        // dialects in ~0.7 ms of them): each JS → wasm call paid it, 10 s for one Finished
        // message of the tiny example. The wrappers' names are in the name section of a build
        // that keeps names (the dev build the tests run on); a stripped release build has none.
        const wasm = fs.readFileSync(path.join(dist, 'worker_bg.wasm'));
        if (!wasm.includes('worker::start')) {
            t.skip('this worker build keeps no function names (a release build)');
            return;
        }
        assert.equal(wasm.includes('.command_export'), false);
    });

    it('sends no request outside the page origin', () => {
        assert.deepEqual(offOrigin, []);
    });

    it('keeps to its Content-Security-Policy, which refuses requests to other origins', async () => {
        // Nothing any test did broke the policy (inline script, off-origin fetch, eval).
        assert.deepEqual(cspViolations, []);
        const page = await newPage();
        await page.waitForSelector('#data');
        const outcome = await page.evaluate(async () => {
            const seen = new Promise(resolve => document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective), { once: true }));
            const fetched = await fetch('https://example.com/collect').then(() => 'sent', e => `refused: ${e.message}`);
            return { fetched, directive: await seen };
        });
        assert.match(outcome.fetched, /^refused/);
        assert.equal(outcome.directive, 'connect-src');
        // An injected inline script does not run either.
        const ran = await page.evaluate(() => {
            window.injected = false;
            const s = document.createElement('script');
            s.textContent = 'window.injected = true';
            document.body.append(s);
            return window.injected;
        });
        assert.equal(ran, false);
        // The console watch that checked every other test sees these two refusals.
        for (let i = 0; i < 50 && cspViolations.length < 2; i++) await page.waitForTimeout(100);
        assert.ok(cspViolations.some(v => /connect-src/.test(v)), cspViolations.join('\n'));
        assert.ok(cspViolations.some(v => /inline script/.test(v)), cspViolations.join('\n'));
        cspViolations.length = 0;
        await page.context().close();
    });
});
