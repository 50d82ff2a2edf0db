// The static server the browser tests and benchmarks open the built site from.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const MIME = {
    '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
    '.css': 'text/css', '.csv': 'text/csv', '.md': 'text/markdown', '.png': 'image/png',
    '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json',
};

// Serves the files under `root` on a free port of 127.0.0.1 (a folder: its index.html); resolves
// to the listening server. Paths outside `root` are refused.
export function serve(root) {
    const base = path.resolve(root);
    const server = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://x');
        let file = path.join(base, decodeURIComponent(url.pathname));
        if (!file.startsWith(base)) { res.writeHead(403).end(); return; }
        if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
        fs.readFile(file, (err, data) => {
            if (err) { res.writeHead(404).end('not found'); return; }
            res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
            res.end(data);
        });
    });
    return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}
