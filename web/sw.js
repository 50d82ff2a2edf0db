// The service worker: the page works offline after the first visit. At install it caches the
// page, its module, the training worker and the bundled examples (the list below; a test keeps
// it equal to web/src/examples.rs and the files Trunk writes). Requests go to the network first,
// so an online page is always the newest; offline, the cached copy answers.

const CACHE = 'qnn-lab-v1';

const SHELL = [
    './',
    './index.html',
    './app.js',
    './style.css',
    './favicon.svg',
    './manifest.webmanifest',
    './qnn-web.js',
    './qnn-web_bg.wasm',
    './worker_loader.js',
    './worker.js',
    './worker_bg.wasm',
    './examples/planted/planted.csv',
    './examples/tiny_csv/train_sample.csv',
    './examples/tiny_csv/valid_sample.csv',
    './examples/tiny_csv/test_sample.csv',
    './examples/criteo/criteo_sample.csv',
    './examples/avazu/avazu_sample.csv',
    './examples/movielens/movielens_sample.csv',
];

self.addEventListener('install', event => {
    event.waitUntil(caches.open(CACHE).then(cache => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', event => {
    event.waitUntil(caches.keys()
        .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
        .then(() => self.clients.claim()));
});

// The page's list of what it loaded before this worker controlled it; answered with how many
// were kept.
self.addEventListener('message', event => {
    const urls = Array.isArray(event.data?.keep) ? event.data.keep : [];
    event.waitUntil(caches.open(CACHE)
        .then(cache => Promise.all(urls.map(url => cache.add(url).then(() => 1, () => 0))))
        .then(kept => event.source?.postMessage({ kept: kept.reduce((a, b) => a + b, 0) })));
});

self.addEventListener('fetch', event => {
    const request = event.request;
    if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
    event.respondWith(fetch(request)
        .then(response => {
            if (response.ok) {
                const copy = response.clone();
                caches.open(CACHE).then(cache => cache.put(request, copy));
            }
            return response;
        })
        // Offline: the cached copy; a link with a query string is the cached page.
        .catch(() => caches.match(request, { ignoreSearch: true })
            .then(hit => hit ?? Promise.reject(new Error(`offline and not cached: ${request.url}`)))));
});
