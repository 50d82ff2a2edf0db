//! The training worker, loaded by the page as `worker_loader.js`.

fn main() {
    #[cfg(target_family = "wasm")]
    qnn_web::worker::start();
}
