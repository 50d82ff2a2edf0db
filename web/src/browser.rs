//! The few browser facilities the page needs beyond web-sys' typed API: WebGPU detection (the
//! WebGPU types are unstable in web-sys), file reading in slices, downloads and the URL.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
export async function detect_webgpu() {
    if (!('gpu' in navigator)) return JSON.stringify({ available: false, software: false, name: '' });
    try {
        const adapter = await navigator.gpu.requestAdapter();
        if (!adapter) return JSON.stringify({ available: false, software: false, name: '' });
        const info = adapter.info || {};
        const arch = (info.architecture || '').toLowerCase();
        const vendor = (info.vendor || '').toLowerCase();
        const software = !!(adapter.isFallbackAdapter || info.isFallbackAdapter)
            || arch.includes('swiftshader') || arch.includes('llvmpipe') || arch.includes('lavapipe')
            || vendor.includes('swiftshader') || (info.description || '').toLowerCase().includes('swiftshader');
        const name = [info.vendor, info.architecture, info.description].filter(x => x).join(' ');
        return JSON.stringify({ available: true, software, name });
    } catch (e) {
        return JSON.stringify({ available: false, software: false, name: String(e) });
    }
}
export function download_bytes(name, bytes, mime) {
    const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
    const a = document.createElement('a');
    a.href = url; a.download = name; a.style.display = 'none';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}
export function memory_hint() {
    return navigator.deviceMemory ? navigator.deviceMemory * 1024 * 1024 * 1024 : 0;
}
"#)]
extern "C" {
    async fn detect_webgpu() -> JsValue;
    fn download_bytes(name: &str, bytes: &Uint8Array, mime: &str);
}

/// What the browser offers for WebGPU.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
pub struct WebGpuInfo {
    pub available: bool,
    /// A software adapter (SwiftShader, llvmpipe): far slower than the wasm CPU backend.
    pub software: bool,
    pub name: String,
}

pub async fn webgpu_info() -> WebGpuInfo {
    detect_webgpu()
        .await
        .as_string()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

pub fn download(name: &str, bytes: &[u8], mime: &str) {
    download_bytes(name, &Uint8Array::from(bytes), mime);
}

/// Slice size for reading files.
const SLICE_BYTES: f64 = 8.0 * 1024.0 * 1024.0;

/// Reads a file in slices, reporting the fraction read; errors are sentences for the page.
pub async fn read_file(file: &web_sys::File, progress: &dyn Fn(f64)) -> Result<Vec<u8>, String> {
    let size = file.size();
    let name = file.name();
    crate::uploads::check_upload(&[(name.clone(), size)])?;
    let mut bytes: Vec<u8> = Vec::new();
    bytes.try_reserve_exact(size as usize).map_err(|_| {
        format!(
            "{name} ({:.0} MB) does not fit in this tab's memory. Close other tabs or use the \
             `qnn` command-line tool.",
            size / 1e6
        )
    })?;
    let mut start = 0.0;
    while start < size {
        let end = (start + SLICE_BYTES).min(size);
        let blob = file
            .slice_with_f64_and_f64(start, end)
            .map_err(|e| format!("{name}: cannot read ({e:?})"))?;
        let buffer = JsFuture::from(blob.array_buffer())
            .await
            .map_err(|e| format!("{name}: cannot read ({e:?})"))?;
        // Copy the slice straight into the reserved buffer (no intermediate Vec).
        let chunk = Uint8Array::new(&buffer);
        let at = bytes.len();
        bytes.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[at..]);
        start = end;
        progress(start / size);
    }
    progress(1.0);
    Ok(bytes)
}

/// Fetches a bundled example from the page's own origin.
pub async fn fetch_bytes(path: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|e| format!("{path}: {e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("{path}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{path}: {e:?}"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The page's query string as pairs.
pub fn query_pairs() -> Vec<(String, String)> {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else {
        return Vec::new();
    };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = js_sys::try_iter(&params).ok().flatten();
    for entry in entries.into_iter().flatten().flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((k, v));
        }
    }
    out
}

/// Replaces the query string without reloading; returns the full link.
pub fn set_query(pairs: &[(String, String)]) -> String {
    let Some(window) = web_sys::window() else {
        return String::new();
    };
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return String::new();
    };
    for (k, v) in pairs {
        params.append(k, v);
    }
    let query = format!("?{}", String::from(params.to_string()));
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&query));
    }
    window.location().href().unwrap_or_default()
}

/// `link` with its query parameter `key` set to `value`, or removed for `None`.
pub fn with_param(link: &str, key: &str, value: Option<&str>) -> String {
    let Ok(url) = web_sys::Url::new(link) else {
        return link.to_string();
    };
    let params = url.search_params();
    match value {
        Some(v) => params.set(key, v),
        None => params.delete(key),
    }
    url.href()
}
