//! The page. Built by Trunk (`trunk serve` at the repository root).

fn main() {
    #[cfg(target_family = "wasm")]
    qnn_web::app::mount();
    #[cfg(not(target_family = "wasm"))]
    eprintln!("the browser trainer is a wasm app: run `trunk serve` at the repository root");
}
