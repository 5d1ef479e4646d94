//! The `<link rel="preload">` hints for the WASM chunks of the page being rendered,
//! so that a direct load fetches them beside the main bundle instead of after it.
//!
//! Leptos has its own: a lazily loaded route registers its chunk while it renders,
//! and the integration writes the hints once the body is done. That last step looks
//! up the request's contexts without its reactive owner, so it only works when the
//! thread's current owner happens to be the right one: measured on the release build,
//! signed-in pages rendered one after another came without hints about one time in
//! three. Here the hints are written by the document shell itself, in the request's
//! owner, from the manifest `cargo leptos build --split` wrote; Leptos' registrations
//! go to a set of our own that nothing reads, so no hint is written twice. Without
//! `--split` (debug builds) there is no manifest and no hint.

use leptos::prelude::*;

/// What the shell preloads for one page.
#[derive(Debug, Default, PartialEq)]
pub struct ChunkHints {
    /// Every WASM chunk the page needs, its own and the shared ones.
    pub wasm: Vec<String>,
    /// The split loader script (`__wasm_split.*.js`).
    pub loader: Option<String>,
}

/// The chunks of the page served at `path`, as the manifest lists them: keys like
/// `__account_route_view_<hash>`, values the chunk files without `.wasm`.
fn hints_for<'a>(
    path: &str,
    pkg_path: &str,
    manifest: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
    loader: &str,
) -> ChunkHints {
    let Some((_, prefix)) = crate::pages::PAGE_CHUNKS.iter().find(|(page, _)| serves(page, path)) else {
        return ChunkHints::default();
    };
    let Some((_, chunks)) = manifest.into_iter().find(|(key, _)| key.starts_with(prefix)) else {
        return ChunkHints::default();
    };
    ChunkHints {
        wasm: chunks.iter().map(|chunk| format!("{pkg_path}/{chunk}.wasm")).collect(),
        loader: Some(format!("{pkg_path}/{loader}")),
    }
}

/// Whether the route `pattern` (with `{name}` segments) serves `path`. The first
/// match wins, so a fixed route (`/admin/users/new`) is listed before one with a
/// parameter in its place.
fn serves(pattern: &str, path: &str) -> bool {
    let (mut pattern, mut path) = (pattern.split('/'), path.split('/'));
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(want), Some(got)) if want == got || (want.starts_with('{') && !got.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Called while the shell renders, after `HydrationScripts` (which reads the
/// manifest into the context) and before the app.
pub fn hints_for_requested_page() -> ChunkHints {
    // Leptos' registrations go here from now on, and are dropped with the request.
    provide_context(leptos::PrefetchLazyFn::default());
    let Some(path) = use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned()) else {
        return ChunkHints::default();
    };
    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
        return ChunkHints::default();
    };
    manifest
        .0
        .try_read_value()
        .map(|manifest| {
            let (pkg_path, chunks, loader) = &*manifest;
            hints_for(&path, pkg_path, chunks, loader)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_page_preloads_its_own_chunks_only() {
        let manifest: HashMap<String, Vec<String>> = [
            (
                "__admin_users_route_view_42",
                vec!["chunk_1", "split___admin_users_route_view_42"],
            ),
            (
                "__account_route_view_42",
                vec!["chunk_1", "chunk_2", "split___account_route_view_42"],
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
        .collect();
        let hints = hints_for("/account", "/pkg", &manifest, "__wasm_split.x.js");
        assert_eq!(
            hints.wasm,
            [
                "/pkg/chunk_1.wasm",
                "/pkg/chunk_2.wasm",
                "/pkg/split___account_route_view_42.wasm"
            ]
        );
        assert_eq!(hints.loader.as_deref(), Some("/pkg/__wasm_split.x.js"));
        assert_eq!(
            hints_for("/admin/audit", "/pkg", &manifest, "l.js"),
            ChunkHints::default()
        );
        assert_eq!(hints_for("/nowhere", "/pkg", &manifest, "l.js"), ChunkHints::default());
    }

    #[test]
    fn a_route_with_a_parameter_serves_any_value_of_it() {
        assert!(serves("/admin/users/{id}", "/admin/users/3f1e"));
        assert!(!serves("/admin/users/{id}", "/admin/users/"));
        assert!(!serves("/admin/users/{id}", "/admin/users"));
        assert!(!serves("/admin/users/{id}", "/admin/users/3f1e/more"));
        assert!(serves("/admin/users", "/admin/users"));
        assert!(!serves("/admin/users", "/admin/audit"));
        let first = crate::pages::PAGE_CHUNKS
            .iter()
            .find(|(page, _)| serves(page, "/admin/users/new"));
        assert_eq!(first.map(|(_, chunk)| *chunk), Some("__admin_new_user_route_view_"));
    }
}
