//! Rendered pages and charts, kept per dataset: bounded in bytes (keys counted) and entries,
//! and coalesced, so that concurrent requests for one page render it once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ApiError, Loaded};

/// A rendered response: its content type and body.
type Page = (&'static str, axum::body::Bytes);

/// Rendered responses by request, up to [`RENDERED_BYTES`] in all, keys counted (then
/// emptied). Each entry is a cell that one request renders while the others asking for the
/// same page wait for it: after an upload empties the cache, two hundred connections asking
/// for one dashboard render it once, not two hundred times over.
#[derive(Default)]
pub(super) struct Rendered {
    by_key: HashMap<String, Arc<tokio::sync::OnceCell<Page>>>,
    bytes: usize,
}

/// Bytes of rendered responses kept per dataset, keys and bodies together.
const RENDERED_BYTES: usize = 64 << 20;
/// Responses kept per dataset.
const RENDERED_ENTRIES: usize = 4096;
/// A request whose key (its path and parameters) is longer than this is rendered but not
/// kept: no dashboard parameter is this long, and a client sending long, distinct query
/// strings must not fill the cache.
const RENDERED_KEY_BYTES: usize = 2048;
/// What an entry costs beyond its key and body (the map slot, the cell, the `Arc`).
const RENDERED_ENTRY_OVERHEAD: usize = 128;

impl Rendered {
    /// Makes room for `bytes` more, emptying the cache when they do not fit.
    fn charge(&mut self, bytes: usize) {
        if self.bytes + bytes > RENDERED_BYTES || self.by_key.len() >= RENDERED_ENTRIES {
            *self = Rendered::default();
        }
        self.bytes += bytes;
    }
}

impl Loaded {
    /// The response for `key`: kept from an earlier request, being rendered by another
    /// request (then waited for), or rendered here by `make` and kept. A failed render is
    /// not kept; the next request tries again.
    pub async fn render<F, Fut>(
        &self,
        key: String,
        make: F,
    ) -> std::result::Result<Response, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<(&'static str, Vec<u8>), ApiError>>,
    {
        if key.len() > RENDERED_KEY_BYTES {
            let (content_type, body) = make().await?;
            return Ok(answer(content_type, body.into()));
        }
        let cell = {
            let mut cache = self.rendered.lock().map_err(|_| poisoned())?;
            match cache.by_key.get(&key) {
                Some(cell) => cell.clone(),
                None => {
                    cache.charge(key.len() + RENDERED_ENTRY_OVERHEAD);
                    let cell = Arc::new(tokio::sync::OnceCell::new());
                    cache.by_key.insert(key.clone(), cell.clone());
                    cell
                }
            }
        };
        let mut made = false;
        let page = cell
            .get_or_try_init(|| async {
                made = true;
                let (content_type, body) = make().await?;
                Ok::<Page, ApiError>((content_type, body.into()))
            })
            .await;
        let (content_type, body) = match page {
            Ok(page) => page.clone(),
            Err(e) => {
                if let Ok(mut cache) = self.rendered.lock()
                    && cache.by_key.get(&key).is_some_and(|c| !c.initialized())
                {
                    cache.by_key.remove(&key);
                }
                return Err(e);
            }
        };
        if made && let Ok(mut cache) = self.rendered.lock() {
            cache.charge(body.len());
        }
        Ok(answer(content_type, body))
    }
}

/// A rendered page as a response.
fn answer(content_type: &'static str, body: axum::body::Bytes) -> Response {
    ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The answer when a lock was poisoned by a panicking request (the panic layer answered it).
fn poisoned() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::score::Profile;

    async fn demo_loaded() -> Loaded {
        let tables = crate::dataset::demo().expect("demo");
        super::super::load(
            tables,
            &Profile::default_profile(),
            Default::default(),
            None,
        )
        .await
        .expect("loaded")
    }

    async fn page(loaded: &Loaded, key: String, body: &str) -> Response {
        let body = body.as_bytes().to_vec();
        loaded
            .render(key, || async move { Ok(("text/plain", body)) })
            .await
            .expect("rendered")
    }

    /// #12 item 4: distinct long query strings (a supplier's chart requests with 60 KB of
    /// parameters each) are rendered but never kept, and short ones are kept up to the
    /// entry and byte limits, their keys counted.
    #[tokio::test]
    async fn distinct_query_strings_cannot_grow_the_page_cache() {
        let loaded = demo_loaded().await;
        for i in 0..200 {
            let key = format!("chart/overview/0.svg\0{i}{}", "x".repeat(60 << 10));
            page(&loaded, key, "<svg/>").await;
        }
        let kept = |l: &Loaded| {
            let cache = l.rendered.lock().expect("lock");
            (cache.by_key.len(), cache.bytes)
        };
        assert_eq!(kept(&loaded), (0, 0));
        for i in 0..3 * RENDERED_ENTRIES {
            let key = format!("chart/overview/0.svg\0{i}{}", "x".repeat(1500));
            page(&loaded, key, "<svg/>").await;
            let (entries, bytes) = kept(&loaded);
            assert!(entries <= RENDERED_ENTRIES);
            // Each entry: its key (about 1.5 KB), the overhead and a 6-byte body.
            assert!(bytes >= entries * (1500 + RENDERED_ENTRY_OVERHEAD));
            assert!(bytes <= RENDERED_BYTES);
        }
    }

    /// #12 item 11: concurrent requests for one page, as after an upload empties the cache
    /// under load, render it once; the others wait for that render and get its body.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_for_one_page_render_it_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let loaded = Arc::new(demo_loaded().await);
        let renders = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let (loaded, renders) = (loaded.clone(), renders.clone());
            tasks.push(tokio::spawn(async move {
                let r = loaded
                    .render("dashboard/overview".into(), || async move {
                        renders.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(("text/html", b"<p>page</p>".to_vec()))
                    })
                    .await
                    .expect("rendered");
                axum::body::to_bytes(r.into_body(), 1 << 20)
                    .await
                    .expect("body")
            }));
        }
        for t in tasks {
            assert_eq!(&t.await.expect("task")[..], b"<p>page</p>");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    /// A failed render is not kept: the next request renders again, and the key is gone.
    #[tokio::test]
    async fn a_failed_render_is_not_kept() {
        let loaded = demo_loaded().await;
        let failed = loaded
            .render("k".into(), || async {
                Err(ApiError::new(StatusCode::BAD_REQUEST, "bad parameter"))
            })
            .await;
        assert!(failed.is_err());
        assert!(loaded.rendered.lock().expect("lock").by_key.is_empty());
        page(&loaded, "k".into(), "ok").await;
        assert_eq!(loaded.rendered.lock().expect("lock").by_key.len(), 1);
    }
}
