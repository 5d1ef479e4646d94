//! Browser entry point. The server already rendered the HTML; this attaches the
//! reactive system to it instead of re-rendering.

// Matches `app`: the hydration code for its deepest views needs the headroom.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazily loaded chunks: hydration waits for the current page's.
    leptos::mount::hydrate_lazy(app::App);
}
