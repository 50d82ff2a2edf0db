//! Saved runs in IndexedDB (through `rexie`): one store of records (`SavedRun` as JSON) and one
//! of model files, under the same key, so that the list is read without the model files.

use js_sys::{Reflect, Uint8Array};
use rexie::{ObjectStore, Rexie, TransactionMode, TransactionResult};
use wasm_bindgen::{JsCast, JsValue};

use crate::runs::SavedRun;

const DATABASE: &str = "qnn-lab";
const RUNS: &str = "runs";
const MODELS: &str = "models";

/// What went wrong, in words (rexie's own message is only "idb error").
fn words(e: rexie::Error) -> String {
    match e {
        rexie::Error::IdbError(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

async fn open() -> Result<Rexie, String> {
    Rexie::builder(DATABASE)
        .version(1)
        .add_object_store(ObjectStore::new(RUNS).auto_increment(true))
        .add_object_store(ObjectStore::new(MODELS))
        .build()
        .await
        .map_err(|e| format!("the browser's storage cannot be opened: {}", words(e)))
}

/// Saves a run and its model file in one transaction (both or neither); its key.
pub async fn save(run: &SavedRun, model: &[u8]) -> Result<f64, String> {
    let db = open().await?;
    let tx = db
        .transaction(&[RUNS, MODELS], TransactionMode::ReadWrite)
        .map_err(words)?;
    let key = tx
        .store(RUNS)
        .map_err(words)?
        .add(&JsValue::from_str(&run.to_json()), None)
        .await
        .map_err(words)?;
    tx.store(MODELS)
        .map_err(words)?
        .add(&Uint8Array::from(model).into(), Some(&key))
        .await
        .map_err(words)?;
    committed(tx.done().await, "stored").await?;
    key.as_f64()
        .ok_or_else(|| "the storage gave the run no number".into())
}

/// A write transaction's end: the browser may still refuse it when it commits (a full storage
/// aborts it there, after every request in it succeeded).
async fn committed(
    result: Result<TransactionResult, rexie::Error>,
    what: &str,
) -> Result<(), String> {
    match result.map_err(words)? {
        TransactionResult::Committed => Ok(()),
        TransactionResult::Aborted => Err(match estimate().await {
            Some((used, quota)) => format!(
                "the browser refused to keep it ({:.1} of {:.1} MB this page may use are taken; nothing was {what})",
                used / 1e6,
                quota / 1e6
            ),
            None => format!("the browser refused to keep it (nothing was {what})"),
        }),
    }
}

/// Every saved run, oldest first, with its key (records that cannot be read are skipped and
/// counted).
pub async fn list() -> Result<(Vec<(f64, SavedRun)>, usize), String> {
    let db = open().await?;
    let tx = db
        .transaction(&[RUNS], TransactionMode::ReadOnly)
        .map_err(words)?;
    let store = tx.store(RUNS).map_err(words)?;
    let keys = store.get_all_keys(None, None).await.map_err(words)?;
    let values = store.get_all(None, None).await.map_err(words)?;
    let mut runs = Vec::new();
    let mut unreadable = 0;
    for (key, value) in keys.iter().zip(&values) {
        match (
            key.as_f64(),
            value.as_string().map(|t| SavedRun::from_json(&t)),
        ) {
            (Some(k), Some(Ok(run))) => runs.push((k, run)),
            _ => unreadable += 1,
        }
    }
    Ok((runs, unreadable))
}

/// The model file of run `key`.
pub async fn model(key: f64) -> Result<Vec<u8>, String> {
    let db = open().await?;
    let tx = db
        .transaction(&[MODELS], TransactionMode::ReadOnly)
        .map_err(words)?;
    let value = tx
        .store(MODELS)
        .map_err(words)?
        .get(JsValue::from_f64(key))
        .await
        .map_err(words)?
        .ok_or("this run's model file is not in the storage")?;
    let bytes = value
        .dyn_into::<Uint8Array>()
        .map_err(|_| "this run's model file is not bytes")?;
    Ok(bytes.to_vec())
}

/// Deletes run `key` and its model file.
pub async fn delete(key: f64) -> Result<(), String> {
    let db = open().await?;
    let tx = db
        .transaction(&[RUNS, MODELS], TransactionMode::ReadWrite)
        .map_err(words)?;
    for name in [RUNS, MODELS] {
        tx.store(name)
            .map_err(words)?
            .delete(JsValue::from_f64(key))
            .await
            .map_err(words)?;
    }
    committed(tx.done().await, "deleted").await
}

/// The storage this origin uses and may use, in bytes (the browser's estimate).
pub async fn estimate() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let promise = storage.estimate().ok()?;
    let value = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    let field = |name| {
        Reflect::get(&value, &JsValue::from_str(name))
            .ok()?
            .as_f64()
    };
    Some((field("usage")?, field("quota")?))
}
