//! The workers of a namespace kept in this process while the window shows them: opening a
//! listing streams Cloudflare's pages into memory (progress as they arrive; on a failure the
//! workers listed before it are kept), and the window asks for the rows it shows — a search, a
//! tag, a sort and a window (offset, limit) — rather than holding 100,000 workers itself.
//!
//! Per worker the listing keeps its name, times and tags in a few large buffers ([`Rows`]: the
//! fields its tags give, service, env, commit, branch and version, are read from them again for
//! the rows a query answers) and its lowercased haystack (name and tags, one per line: what the
//! search looks in), all haystacks in one buffer that a search scans at once (memchr's memmem); and per sort order the order of all workers (built on the first query that asks
//! for it). A search that extends the last one (`gat` after `ga`) looks only in the last one's
//! matches. Only the last [`KEPT_LISTINGS`] listings are kept: opening another frees the
//! oldest, so leaving a namespace frees its workers even when the window never closes them.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, ErrorCode};
use tokio_util::sync::CancellationToken;

use crate::memory::release_freed_memory_soon;
use crate::{Ops, WorkerRow};

/// How many listings are kept at once (the namespace shown, and the one before it).
pub const KEPT_LISTINGS: usize = 2;

/// The most rows one query answers (a window's worth many times over).
pub const WINDOW_ROWS_MAX: u32 = 1_000;

/// Between a worker's fields in its haystack: a search typed into a one-line field never holds it.
const FIELD_SEPARATOR: char = '\n';

/// The tag keys the Tag filter offers (commits are one per worker: searching finds them better).
const FILTER_KEYS: [&str; 4] = ["service", "env", "branch", "version"];

/// How a listing's workers arrive: sent after each page, and answered when all have (or a page failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerListingProgress {
    /// The listing to query.
    pub listing: u32,
    /// How many workers have arrived so far.
    pub loaded: u32,
    /// All have arrived.
    pub done: bool,
}

/// What a worker column sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum WorkerSortKey {
    Name,
    Service,
    Environment,
    Version,
    /// The commit's first 7 characters, as the column shows it.
    Commit,
    Branch,
    /// The time, not its text (unparsable or absent: the oldest).
    Modified,
}

/// What the window asks a listing: the workers matching `search` (name or a tag containing it,
/// case-insensitive, e.g. `gateway` or `branch:main`) that carry `tag` exactly when one is given,
/// sorted, from `offset`, at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerQuery {
    pub listing: u32,
    #[serde(default)]
    pub search: String,
    #[serde(default)]
    pub tag: Option<String>,
    pub sort: WorkerSortKey,
    #[serde(default)]
    pub descending: bool,
    pub offset: u32,
    pub limit: u32,
    /// Answer the tag groups too (they change only as workers arrive).
    #[serde(default)]
    pub with_groups: bool,
    /// Answer the worker of exactly this name too, when it is listed (whatever the search).
    #[serde(default)]
    pub find: Option<String>,
}

/// The distinct tags of one key (`service:`, `env:`, `branch:`, `version:`), sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TagGroup {
    pub key: String,
    pub tags: Vec<String>,
}

/// A query's answer: how many match of how many listed, and the rows of the window asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerWindow {
    pub listing: u32,
    /// How many workers match the search and tag.
    pub matching: u32,
    /// How many workers are listed (so far, until `done`).
    pub total: u32,
    /// All have arrived.
    pub done: bool,
    /// A page failed: `total` is what was listed before it.
    pub stopped: bool,
    /// The position of the first of `rows` among those matching.
    pub offset: u32,
    pub rows: Vec<WorkerRow>,
    /// When asked (`withGroups`).
    pub groups: Option<Vec<TagGroup>>,
    /// When asked (`find`) and listed.
    pub found: Option<WorkerRow>,
}

/// The listings kept (see the module's header).
#[derive(Default)]
pub(crate) struct WorkerListings {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    next_id: u32,
    listings: VecDeque<Arc<Listing>>,
}

struct Listing {
    id: u32,
    /// Closed or pushed out: the listing stops asking for pages, and any still arriving are
    /// dropped.
    closed: CancellationToken,
    data: RwLock<Data>,
}

#[derive(Default)]
struct Data {
    rows: Rows,
    /// Every row's haystack (name and tags, lowercased, one per line), each followed by a line break.
    haystacks: String,
    /// Where each row's haystack starts in `haystacks`, and (last) where the buffer ends.
    haystack_starts: Vec<usize>,
    /// The last search's needle, as of how many rows, and which rows it found.
    last_search: Option<(String, usize, Arc<Vec<bool>>)>,
    /// Every row, by name (ties: as they arrived): the base order every other sort keeps for ties.
    by_name: Vec<u32>,
    /// The sort orders asked for (key, descending), each built for `rows.len()` rows.
    orders: Vec<SortOrder>,
    /// The last search's matches, reused for the next windows of the same search.
    last: Option<(Filter, Arc<Vec<u32>>)>,
    done: bool,
    stopped: bool,
}

/// All rows in one sort order (key, descending), as of `rows` rows listed.
struct SortOrder {
    key: (WorkerSortKey, bool),
    rows: usize,
    order: Arc<Vec<u32>>,
}

#[derive(Clone, PartialEq, Eq)]
struct Filter {
    needle: String,
    tag: Option<String>,
    sort: WorkerSortKey,
    descending: bool,
    rows: usize,
}

/// A listing that is no longer kept: the window should open it again.
fn listing_gone(id: u32) -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        format!(
            "The workers' listing {id} is no longer kept (it was closed, or another namespace's replaced it). Open the namespace again to list its workers."
        ),
    )
}

/// Append `row`'s haystack (and a line break) to `text`.
fn push_haystack(text: &mut String, row: &WorkerRow) {
    text.push_str(&row.name.to_lowercase());
    for tag in &row.tags {
        text.push(FIELD_SEPARATOR);
        text.push_str(&tag.to_lowercase());
    }
    text.push(FIELD_SEPARATOR);
}

/// Every worker listed, in a few large buffers rather than a dozen small allocations each
/// (freed at once, and given back to the system, when the listing goes): per worker its name,
/// times and tags; the fields its tags give (service, env, commit, branch, version, see
/// [`WorkerRow::from_script`]) are read from them again for the rows a query answers.
#[derive(Default)]
struct Rows {
    /// Every field's text, one after the other.
    text: String,
    /// Where each field ends in `text` (it starts where the one before ends).
    ends: Vec<usize>,
    /// Per worker, its first field in `ends` (name, created, modified, then its tags); last,
    /// the fields' count.
    firsts: Vec<u32>,
    /// Per worker: bit 0 it has a creation time, bit 1 a modification time.
    times: Vec<u8>,
}

const NAME: usize = 0;
const CREATED: usize = 1;
const MODIFIED: usize = 2;
const FIRST_TAG: usize = 3;

impl Rows {
    fn len(&self) -> usize {
        self.times.len()
    }

    fn push(&mut self, row: &WorkerRow) {
        if self.firsts.is_empty() {
            self.firsts.push(0);
        }
        let mut field = |text: &str| {
            self.text.push_str(text);
            self.ends.push(self.text.len());
        };
        field(&row.name);
        field(row.created_on.as_deref().unwrap_or(""));
        field(row.modified_on.as_deref().unwrap_or(""));
        for tag in &row.tags {
            field(tag);
        }
        self.firsts
            .push(u32::try_from(self.ends.len()).unwrap_or(u32::MAX));
        self.times
            .push(u8::from(row.created_on.is_some()) | (u8::from(row.modified_on.is_some()) << 1));
    }

    fn field(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.text[start..self.ends[index]]
    }

    fn fields(&self, row: usize) -> std::ops::Range<usize> {
        self.firsts[row] as usize..self.firsts[row + 1] as usize
    }

    fn name(&self, row: usize) -> &str {
        self.field(self.fields(row).start + NAME)
    }

    fn tags(&self, row: usize) -> impl Iterator<Item = &str> + Clone {
        let fields = self.fields(row);
        (fields.start + FIRST_TAG..fields.end).map(|i| self.field(i))
    }

    fn time(&self, row: usize, which: usize) -> Option<&str> {
        let bit = if which == CREATED { 1 } else { 2 };
        (self.times[row] & bit != 0).then(|| self.field(self.fields(row).start + which))
    }

    /// The value of the first tag `key:value` with a value (as [`WorkerRow::from_script`] reads it).
    fn tag_value(&self, row: usize, key: &str) -> Option<&str> {
        self.tags(row)
            .filter_map(|t| t.split_once(':'))
            .find(|(k, v)| *k == key && !v.is_empty())
            .map(|(_, v)| v)
    }

    /// A worker as the window shows it.
    fn row(&self, row: usize) -> WorkerRow {
        let tag = |key: &str| self.tag_value(row, key).map(str::to_owned);
        WorkerRow {
            name: self.name(row).to_owned(),
            tags: self.tags(row).map(str::to_owned).collect(),
            service: tag("service"),
            environment: tag("env"),
            commit: tag("commit"),
            branch: tag("branch"),
            version: tag("version"),
            created_on: self.time(row, CREATED).map(str::to_owned),
            modified_on: self.time(row, MODIFIED).map(str::to_owned),
        }
    }

    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.firsts.shrink_to_fit();
        self.times.shrink_to_fit();
    }
}

/// What a row sorts by under `key` (strings compare as text; `Modified` by its time).
#[derive(PartialEq, PartialOrd)]
enum SortValue<'a> {
    Text(&'a str),
    Time(i64),
}

fn sort_value(rows: &Rows, row: usize, key: WorkerSortKey) -> SortValue<'_> {
    let text = |key: &str| SortValue::Text(rows.tag_value(row, key).unwrap_or(""));
    match key {
        WorkerSortKey::Name => SortValue::Text(rows.name(row)),
        WorkerSortKey::Service => text("service"),
        WorkerSortKey::Environment => text("env"),
        WorkerSortKey::Version => text("version"),
        WorkerSortKey::Branch => text("branch"),
        WorkerSortKey::Commit => {
            let commit = rows.tag_value(row, "commit").unwrap_or("");
            let end = commit
                .char_indices()
                .nth(7)
                .map_or(commit.len(), |(i, _)| i);
            SortValue::Text(&commit[..end])
        }
        WorkerSortKey::Modified => SortValue::Time(
            rows.time(row, MODIFIED)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map_or(0, |t| t.timestamp_millis()),
        ),
    }
}

impl Data {
    /// A page arrived (sorted by name): its rows join those listed, merged into the by-name order.
    fn add_page(&mut self, page: Vec<WorkerRow>) {
        let start = self.rows.len() as u32;
        if self.haystack_starts.is_empty() {
            self.haystack_starts.push(0);
        }
        for row in &page {
            push_haystack(&mut self.haystacks, row);
            self.haystack_starts.push(self.haystacks.len());
        }
        for row in &page {
            self.rows.push(row);
        }
        drop(page);
        let added = start..self.rows.len() as u32;
        let rows = &self.rows;
        let follows = match self.by_name.last() {
            Some(&last) if (start as usize) < rows.len() => {
                rows.name(last as usize) <= rows.name(start as usize)
            }
            _ => true,
        };
        if follows {
            // Cloudflare answers in name order: each page follows the one before.
            self.by_name.extend(added);
        } else {
            let mut merged = Vec::with_capacity(rows.len());
            let (mut a, mut b) = (self.by_name.iter().peekable(), added.peekable());
            loop {
                match (a.peek(), b.peek()) {
                    (Some(&&x), Some(&y)) => {
                        if rows.name(y as usize) < rows.name(x as usize) {
                            merged.push(y);
                            b.next();
                        } else {
                            merged.push(x);
                            a.next();
                        }
                    }
                    (Some(&&x), None) => {
                        merged.push(x);
                        a.next();
                    }
                    (None, Some(&y)) => {
                        merged.push(y);
                        b.next();
                    }
                    (None, None) => break,
                }
            }
            self.by_name = merged;
        }
    }

    /// Every row in `key` order (descending or not; ties in name order either way).
    fn order(&mut self, key: WorkerSortKey, descending: bool) -> Arc<Vec<u32>> {
        let n = self.rows.len();
        if let Some(SortOrder { order, .. }) = self
            .orders
            .iter()
            .find(|o| o.key == (key, descending) && o.rows == n)
        {
            return Arc::clone(order);
        }
        let rows = &self.rows;
        let mut order = self.by_name.clone();
        if key != WorkerSortKey::Name || descending {
            let values: Vec<SortValue<'_>> =
                (0..rows.len()).map(|r| sort_value(rows, r, key)).collect();
            // Stable: ties keep the by-name order.
            order.sort_by(|&a, &b| {
                let cmp = values[a as usize]
                    .partial_cmp(&values[b as usize])
                    .unwrap_or(std::cmp::Ordering::Equal);
                if descending {
                    cmp.reverse()
                } else {
                    cmp
                }
            });
        }
        let order = Arc::new(order);
        self.orders.retain(|o| o.key != (key, descending));
        self.orders.push(SortOrder {
            key: (key, descending),
            rows: n,
            order: Arc::clone(&order),
        });
        order
    }

    /// The rows matching `filter`, in its order.
    fn matches(&mut self, filter: &Filter) -> Arc<Vec<u32>> {
        if let Some((last, found)) = &self.last {
            if last == filter {
                return Arc::clone(found);
            }
        }
        let order = self.order(filter.sort, filter.descending);
        if filter.needle.is_empty() && filter.tag.is_none() {
            self.last = Some((filter.clone(), Arc::clone(&order)));
            return order;
        }
        let mut order = order.as_ref().clone();
        let needle = filter.needle.as_str();
        let hits =
            (!needle.is_empty() && !needle.contains(FIELD_SEPARATOR)).then(|| self.search(needle));
        let rows = &self.rows;
        let kept = |i: u32| match &filter.tag {
            Some(tag) => rows.tags(i as usize).any(|t| t == tag),
            None => true,
        };
        order.retain(|&i| {
            let found = match &hits {
                Some(hits) => hits[i as usize],
                // A needle across fields: no haystack line holds it, yet a field might.
                None if !needle.is_empty() => std::iter::once(rows.name(i as usize))
                    .chain(rows.tags(i as usize))
                    .any(|f| f.to_lowercase().contains(needle)),
                None => true,
            };
            found && kept(i)
        });
        let found = Arc::new(order);
        self.last = Some((filter.clone(), Arc::clone(&found)));
        found
    }

    /// Which rows' haystacks hold `needle` (one line: it never spans two). One scan of the buffer,
    /// or, when it extends the last search's needle, a look at the last search's matches only.
    fn search(&mut self, needle: &str) -> Arc<Vec<bool>> {
        let n = self.rows.len();
        if let Some((last, rows, hits)) = &self.last_search {
            if last == needle && *rows == n {
                return Arc::clone(hits);
            }
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let text = self.haystacks.as_bytes();
        let starts = &self.haystack_starts;
        let narrowed = match &self.last_search {
            Some((last, rows, hits)) if *rows == n && needle.contains(last.as_str()) => {
                Some(Arc::clone(hits))
            }
            _ => None,
        };
        let hits = match narrowed {
            Some(before) => before
                .iter()
                .enumerate()
                .map(|(i, &hit)| hit && finder.find(&text[starts[i]..starts[i + 1]]).is_some())
                .collect(),
            None => {
                let mut hits = vec![false; n];
                let mut pos = 0;
                while let Some(at) = finder.find(&text[pos..]) {
                    let at = pos + at;
                    // The row whose haystack holds `at`; the scan goes on from the next one.
                    let row = starts.partition_point(|&s| s <= at) - 1;
                    hits[row] = true;
                    pos = starts[row + 1];
                    if pos >= text.len() {
                        break;
                    }
                }
                hits
            }
        };
        let hits = Arc::new(hits);
        self.last_search = Some((needle.to_owned(), n, Arc::clone(&hits)));
        hits
    }

    fn groups(&self) -> Vec<TagGroup> {
        let mut seen: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); FILTER_KEYS.len()];
        for row in 0..self.rows.len() {
            for tag in self.rows.tags(row) {
                let Some((key, value)) = tag.split_once(':') else {
                    continue;
                };
                if key.is_empty() || value.is_empty() {
                    continue;
                }
                if let Some(k) = FILTER_KEYS.iter().position(|f| *f == key) {
                    seen[k].insert(tag);
                }
            }
        }
        FILTER_KEYS
            .iter()
            .zip(seen)
            .filter(|(_, tags)| !tags.is_empty())
            .map(|(key, tags)| TagGroup {
                key: (*key).to_owned(),
                tags: tags.into_iter().map(str::to_owned).collect(),
            })
            .collect()
    }
}

impl WorkerListings {
    fn start(&self) -> Arc<Listing> {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.next_id = kept.next_id.wrapping_add(1).max(1);
        let listing = Arc::new(Listing {
            id: kept.next_id,
            closed: CancellationToken::new(),
            data: RwLock::new(Data::default()),
        });
        kept.listings.push_back(Arc::clone(&listing));
        while kept.listings.len() > KEPT_LISTINGS {
            if let Some(old) = kept.listings.pop_front() {
                old.closed.cancel();
            }
        }
        listing
    }

    fn get(&self, id: u32) -> Result<Arc<Listing>, AppError> {
        let kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        kept.listings
            .iter()
            .find(|l| l.id == id)
            .cloned()
            .ok_or_else(|| listing_gone(id))
    }

    fn close(&self, id: u32) -> bool {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = kept.listings.len();
        kept.listings.retain(|l| {
            let keep = l.id != id;
            if !keep {
                l.closed.cancel();
            }
            keep
        });
        kept.listings.len() != before
    }
}

impl Ops {
    /// List the workers of `namespace` into a new listing kept here: `on_progress` hears of each
    /// page as it arrives (the first names the listing, to query at once); answers when all
    /// have arrived. When a page fails, the error says so and the listing keeps the workers
    /// listed before it (queries still answer them, `stopped`). Closed before all have
    /// arrived, it asks for no more pages and answers `NotFound`.
    pub async fn open_worker_listing(
        &self,
        profile_id: &str,
        namespace: &str,
        mut on_progress: impl FnMut(WorkerListingProgress),
    ) -> Result<WorkerListingProgress, AppError> {
        let listing = self.worker_listings.start();
        let id = listing.id;
        let listing_all = self.list_workers_by_page(profile_id, namespace, |page| {
            if listing.closed.is_cancelled() {
                return;
            }
            let loaded = page.loaded;
            listing
                .data
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .add_page(page.rows);
            on_progress(WorkerListingProgress {
                listing: id,
                loaded,
                done: false,
            });
        });
        // Closed (the operator left the namespace) or pushed out: stop asking for pages.
        let listed = tokio::select! {
            listed = listing_all => listed,
            () = listing.closed.cancelled() => Err(listing_gone(id)),
        };
        let mut data = listing.data.write().unwrap_or_else(|e| e.into_inner());
        data.rows.shrink_to_fit();
        data.haystacks.shrink_to_fit();
        data.haystack_starts.shrink_to_fit();
        let answer = match listed {
            Ok(loaded) => {
                data.done = true;
                Ok(WorkerListingProgress {
                    listing: id,
                    loaded,
                    done: true,
                })
            }
            Err(e) => {
                data.stopped = true;
                Err(e)
            }
        };
        drop(data);
        // The pages' JSON and their parsing (and the embedded sandbox's answers) are freed now;
        // only the listing's own buffers stay.
        release_freed_memory_soon();
        answer
    }

    /// The rows of a window of a listing (see [`WorkerQuery`]), with how many match and how many
    /// are listed. A listing no longer kept answers `NotFound`: open the namespace again.
    pub fn query_worker_listing(&self, query: &WorkerQuery) -> Result<WorkerWindow, AppError> {
        let listing = self.worker_listings.get(query.listing)?;
        let mut data = listing.data.write().unwrap_or_else(|e| e.into_inner());
        let filter = Filter {
            needle: query.search.trim().to_lowercase(),
            tag: query.tag.clone().filter(|t| !t.is_empty()),
            sort: query.sort,
            descending: query.descending,
            rows: data.rows.len(),
        };
        let found = data.matches(&filter);
        let limit = query.limit.min(WINDOW_ROWS_MAX) as usize;
        let offset = (query.offset as usize).min(found.len());
        let rows = found[offset..found.len().min(offset + limit)]
            .iter()
            .map(|&i| data.rows.row(i as usize))
            .collect();
        let count = |n: usize| n.min(u32::MAX as usize) as u32;
        Ok(WorkerWindow {
            listing: listing.id,
            matching: count(found.len()),
            total: count(data.rows.len()),
            done: data.done,
            stopped: data.stopped,
            offset: count(offset),
            rows,
            groups: query.with_groups.then(|| data.groups()),
            found: query.find.as_deref().and_then(|name| {
                (0..data.rows.len())
                    .find(|&i| data.rows.name(i) == name)
                    .map(|i| data.rows.row(i))
            }),
        })
    }

    /// Free a listing's workers. Answers whether it was still kept.
    pub fn close_worker_listing(&self, listing: u32) -> bool {
        let closed = self.worker_listings.close(listing);
        if closed {
            release_freed_memory_soon();
        }
        closed
    }
}
