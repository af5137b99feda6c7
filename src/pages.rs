//! Memory in small (4 KiB) pages, for what is read front to back or touched once per entry:
//! the ingest's chunk buffers and the tables that look up every document's id and product.
//!
//! Linux backs a large anonymous region with 2 MiB pages where the process asks for them
//! (mimalloc does, for its arenas). Where the kernel has to find, or a virtual machine's host
//! has to back, 2 MiB at once, such a page costs far more to fault in than its 512 small
//! ones: on the machine of BENCHMARKS.md, 6.4 ms against 0.8 ms for the same 2 MiB in small
//! pages when no process had just freed memory (0.27 ms when one had). A buffer read in
//! order gains nothing from them, and a table that each entry touches once at a random place
//! gains less (a missed translation per lookup, a few nanoseconds) than its faults cost.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator, Global};

/// Asks Linux to back the 2 MiB-aligned part of the `len` bytes at `at` with small pages
/// (`MADV_NOHUGEPAGE`); pages already there stay as they are, and so do the bytes. A hint:
/// nothing happens if it fails, or off Linux.
pub(crate) fn small_pages<T>(at: *const T, len: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (at as usize).next_multiple_of(HUGE);
        let end = (at as usize).saturating_add(len) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside the caller's allocation; the advice changes how
            // its pages are backed, never what they hold.
            unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_NOHUGEPAGE,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (at, len);
}

/// An empty vector with room for `n` items, in small pages.
pub(crate) fn small_page_vec<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    small_pages(v.as_ptr(), v.capacity().saturating_mul(size_of::<T>()));
    v
}

/// The global allocator, its larger blocks in small pages: for collections that take an
/// allocator (`hashbrown`'s tables).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SmallPages;

// SAFETY: every block comes from `Global` and goes back to it with the same layout; the
// advice given in between leaves the block's bytes and size as they are.
unsafe impl Allocator for SmallPages {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let block = Global.allocate(layout)?;
        small_pages(block.as_ptr().cast::<u8>(), block.len());
        Ok(block)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller gives back a block this allocator gave, with its layout.
        unsafe { Global.deallocate(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `AnonHugePages` of the mapping holding `at`, in KiB, from `/proc/self/smaps`.
    #[cfg(target_os = "linux")]
    fn huge_kib_at(at: usize) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let head = line.split_whitespace().next().unwrap_or("");
            if let Some((a, b)) = head.split_once('-')
                && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                inside = (a..b).contains(&at);
                continue;
            }
            if inside && let Some(rest) = line.strip_prefix("AnonHugePages:") {
                return rest.trim().trim_end_matches("kB").trim().parse().ok();
            }
        }
        None
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn advised_memory_is_faulted_in_small_pages() {
        // 8 MiB asked for huge pages, then its aligned middle advised: touched, the middle's
        // mapping holds no huge page (its own mapping now: the advice splits it off).
        let len = 8 << 20;
        let layout = Layout::from_size_align(len, 2 << 20).expect("a valid layout");
        let block = Global.allocate(layout).expect("8 MiB");
        let at = block.as_ptr().cast::<u8>();
        // SAFETY: `at` is the start of a block of `len` bytes.
        unsafe { libc::madvise(at.cast(), len, libc::MADV_HUGEPAGE) };
        small_pages(at, len);
        // SAFETY: the block is ours and `len` bytes long.
        unsafe { std::ptr::write_bytes(at, 1, len) };
        let middle = at as usize + len / 2;
        // The bytes are as written, and no huge page backs them (when smaps can be read).
        // SAFETY: inside the block.
        assert_eq!(unsafe { *(middle as *const u8) }, 1);
        if let Some(kib) = huge_kib_at(middle) {
            assert_eq!(kib, 0, "huge pages in advised memory");
        }
        // SAFETY: given back with the layout it was taken with.
        unsafe { Global.deallocate(block.cast(), layout) };
    }

    #[test]
    fn a_small_page_table_holds_what_is_put_in() {
        let mut map: hashbrown::HashMap<u64, u64, ahash::RandomState, SmallPages> =
            hashbrown::HashMap::with_capacity_and_hasher_in(
                1 << 20,
                Default::default(),
                SmallPages,
            );
        for i in 0..100_000u64 {
            map.insert(i * 7, i);
        }
        assert_eq!(map.len(), 100_000);
        assert_eq!(map.get(&(7 * 99_999)), Some(&99_999));
        assert_eq!(map.get(&1), None);
        let v: Vec<u32> = small_page_vec(1 << 20);
        assert!(v.capacity() >= 1 << 20 && v.is_empty());
    }
}
