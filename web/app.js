// Starts the page's WebAssembly module. A file, not the inline script Trunk would inject, so
// that the Content-Security-Policy in index.html can forbid inline scripts outright.
import init from './qnn-web.js';

await init({ module_or_path: './qnn-web_bg.wasm' });
