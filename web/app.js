// Starts the page's WebAssembly module. A file, not the inline script Trunk would inject, so
// that the Content-Security-Policy in index.html can forbid inline scripts outright.
import init from './qnn-web.js';

// Offline after the first visit, and installable as an app (web/sw.js, manifest.webmanifest).
const offline = 'serviceWorker' in navigator
    ? navigator.serviceWorker.register('./sw.js').then(() => navigator.serviceWorker.ready)
    : Promise.reject(new Error('this browser has no service workers'));

await init({ module_or_path: './qnn-web_bg.wasm' });

// Everything the page has loaded by now (wasm-bindgen's snippets among it, whose names carry a
// hash) goes into the offline copy too; <html data-offline="ready"> says the copy is complete.
offline.then(registration => {
    const loaded = performance.getEntriesByType('resource').map(e => e.name)
        .filter(url => new URL(url).origin === location.origin);
    navigator.serviceWorker.addEventListener('message', event => {
        if (event.data?.kept !== undefined) document.documentElement.dataset.offline = 'ready';
    });
    registration.active.postMessage({ keep: loaded });
}).catch(e => console.warn(`no offline copy: ${e}`));
