//! A minimal Tauri window with one static page: what `cargo xtask bench` compares Switchyard's
//! cold start, memory and package size against. Built with the same Tauri, profile and
//! custom protocol as the app.
//!
//! Row 1c of the bench: when the folder in `SWITCHYARD_DATA_DIR` (which the bench's harness
//! sets for every window it launches) holds `page/index.html`, the window shows that folder's
//! files instead of its own page, through the same protocol: the app's first screen saved as a
//! static page (its HTML and stylesheets, no script). Without it, nothing changes.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::borrow::Cow;
use std::path::PathBuf;

use tauri::utils::assets::{AssetKey, AssetsIter, CspHash};
use tauri::utils::config::Csp;

/// The files of a folder, served as the window's page.
struct Folder(PathBuf);

impl<R: tauri::Runtime> tauri::Assets<R> for Folder {
    fn get(&self, key: &AssetKey) -> Option<Cow<'_, [u8]>> {
        let relative = key.as_ref().trim_start_matches('/');
        if relative.split('/').any(|part| part == "..") {
            return None;
        }
        std::fs::read(self.0.join(relative)).ok().map(Cow::Owned)
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        Box::new(std::iter::empty())
    }

    fn csp_hashes(&self, _html_path: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        Box::new(std::iter::empty())
    }
}

fn main() {
    let mut context = tauri::generate_context!();
    let page = std::env::var_os("SWITCHYARD_DATA_DIR")
        .map(|dir| PathBuf::from(dir).join("page"))
        .filter(|page| page.join("index.html").is_file());
    if let Some(page) = page {
        // The saved page keeps the app's inline <style> elements (Mantine's) and the mark's
        // inline script: no hashes are given, so 'unsafe-inline' holds.
        context.config_mut().app.security.csp = Some(Csp::Policy(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:"
                .into(),
        ));
        context.set_assets(Box::new(Folder(page)));
    }
    tauri::Builder::default()
        .run(context)
        .expect("error while running the hello-world window");
}
