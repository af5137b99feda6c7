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

/// Asks the memory for the cache line at `p` without waiting for it.
#[inline]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `n` empty (zero) slots of a table that each entry touches once at a random place, in
/// small pages, faulted in writable at once (see [`writable_pages`]).
pub(crate) fn zeroed_slots<T: Clone + Default>(n: usize) -> Vec<T> {
    let slots = vec![T::default(); n];
    let bytes = n.saturating_mul(size_of::<T>());
    small_pages(slots.as_ptr(), bytes);
    writable_pages(slots.as_ptr(), bytes);
    slots
}

/// Asks Linux to fault in the whole pages of the `len` bytes at `at` now, writable and zeroed
/// where they were not there yet (`MADV_POPULATE_WRITE`, Linux 5.14); the bytes stay as they
/// are. A hint: nothing happens if it fails, or off Linux; whether it was done.
///
/// For a table of fresh memory that lookups read before they write: each page's first read
/// maps the kernel's shared zero page, and the write after it faults again, replacing it and
/// flushing the translation on every other core the process runs on (an interrupt each).
/// Two faults and a flush per 4 KiB of a table that every page of is written in the end
/// (a few entries fill a page): in one call, none of them. At a million footprints, the
/// second faults on the ingest's id and product tables were 2.4 % of its CPU samples, most
/// of it their flushes (BENCHMARKS.md, "A thirty-fourth look").
pub(crate) fn writable_pages<T>(at: *const T, len: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4 << 10;
        let start = (at as usize).next_multiple_of(PAGE);
        let end = (at as usize).saturating_add(len) & !(PAGE - 1);
        // SAFETY: the range lies inside the caller's allocation, which is writable; the
        // advice backs its pages, never changes what they hold.
        end > start
            && unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_POPULATE_WRITE,
                )
            } == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (at, len);
        false
    }
}

/// Slots for `n` entries of an open-addressing table at most three quarters full, so that a
/// probe ends within a slot or two: a power of two, at least 16.
pub(crate) fn slots_for(n: usize) -> usize {
    n.saturating_mul(4).div_ceil(3).max(16).next_power_of_two()
}

/// An empty vector with room for `n` items, in small pages.
pub(crate) fn small_page_vec<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    small_pages(v.as_ptr(), v.capacity().saturating_mul(size_of::<T>()));
    v
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
        // mapping holds no huge page (its own mapping now: the advice splits it off). The
        // memory is a fresh mapping of its own: from the allocator, it may be a heap's that
        // another test touched (and huge pages already there stay).
        let len = 8 << 20;
        // SAFETY: an anonymous private mapping; no file, no fixed address.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "8 MiB");
        let at = map.cast::<u8>();
        // SAFETY: the mapping is ours and `len` bytes long.
        unsafe { libc::madvise(map, len, libc::MADV_HUGEPAGE) };
        small_pages(at, len);
        // SAFETY: the mapping is ours and `len` bytes long.
        unsafe { std::ptr::write_bytes(at, 1, len) };
        let middle = at as usize + len / 2;
        // The bytes are as written, and no huge page backs them (when smaps can be read).
        // SAFETY: inside the mapping.
        assert_eq!(unsafe { *(middle as *const u8) }, 1);
        if let Some(kib) = huge_kib_at(middle) {
            assert_eq!(kib, 0, "huge pages in advised memory");
        }
        // SAFETY: the whole mapping, unmapped once.
        unsafe { libc::munmap(map, len) };
    }

    /// Whether every page of the `len` bytes at `at` (page-aligned) is in memory (`mincore`).
    #[cfg(target_os = "linux")]
    fn resident(at: usize, len: usize) -> bool {
        let mut present = vec![0_u8; len.div_ceil(4096)];
        // SAFETY: `present` has a byte per page of the range, which is mapped (the caller's).
        let done = unsafe { libc::mincore(at as *mut libc::c_void, len, present.as_mut_ptr()) };
        done == 0 && present.iter().all(|p| p & 1 == 1)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn zeroed_slots_are_in_memory_before_the_first_entry_and_still_zero() {
        // 16 MiB of slots: fresh memory from the system, which no lookup has touched yet.
        let n = 2 << 20;
        let mut slots: Vec<u64> = zeroed_slots(n);
        let at = (slots.as_ptr() as usize).next_multiple_of(4096);
        let end = (slots.as_ptr() as usize + n * 8) & !4095;
        // Where the kernel can populate (Linux 5.14 and later), every whole page is there.
        let probe = vec![0_u8; 64 << 10];
        if writable_pages(probe.as_ptr(), probe.len()) {
            assert!(
                resident(at, end - at),
                "a page of the table is not in memory"
            );
        }
        assert!(slots.iter().all(|&s| s == 0));
        // Asking again keeps what was written.
        slots[12_345] = 7;
        writable_pages(slots.as_ptr(), n * 8);
        assert_eq!(slots[12_345], 7);
        assert_eq!(slots.iter().filter(|&&s| s != 0).count(), 1);
    }

    #[test]
    fn writable_pages_of_less_than_a_page_do_nothing() {
        let v = [1_u8; 100];
        // 100 bytes hold no whole page, wherever they start: nothing to ask for.
        assert!(!writable_pages(v.as_ptr(), v.len()));
        assert!(v.iter().all(|&b| b == 1));
    }

    #[test]
    fn a_small_page_vector_is_empty_with_room() {
        let v: Vec<u32> = small_page_vec(1 << 20);
        assert!(v.capacity() >= 1 << 20 && v.is_empty());
    }
}
