//! Sources read in place: NDJSON, or a JSON array or list response too large to be one
//! document, whose bytes can all be had at once — in memory, or a regular file mapped
//! read-only — is cut into chunks of whole lines or elements where it lies.
//!
//! Read into buffers, a file's every byte was copied out of the page cache first, on the
//! thread that decides: about half a second of system time for the 2.2 GB of a million
//! footprints, and a buffer that grew while an array's element was read whole (see
//! BENCHMARKS.md). Mapped, the chunks are the page cache's own pages. The pages of a chunk
//! are let go once it is decided, so that a mapped file of any size holds about two chunks
//! in memory, as the buffers did. A device, or any file with `--no-mmap`, is read in chunks
//! as before ([`Intake::ndjson`], [`Intake::json_array`]).

use std::ops::Range;
use std::path::Path;

use memmap2::{Advice, Mmap, UncheckedAdvice};

use super::super::array::{self, ValueEnd};
use super::{
    Chunk, Group, Intake, MOST_LINES, Unit, ndjson_units, size_message, strip_bom, timed, whole,
};
use crate::ingest::source::Data;
use crate::{Error, Result};

/// A source's bytes, all at hand.
enum Whole<'a> {
    Bytes(&'a [u8]),
    Mapped(Mmap),
}

impl Whole<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Whole::Bytes(b) => b,
            Whole::Mapped(m) => m,
        }
    }

    /// Asks for `range`'s pages to be read from the disk in large requests (when they are
    /// not in the page cache) and mapped now, in one call, rather than faulted in one by one
    /// by the threads that read them: faulted in from a file not in the cache, a page at a
    /// time, 2.5 GB took 50 s. A hint: nothing happens if it fails.
    fn prefetch(&self, range: Range<usize>) {
        if let Whole::Mapped(m) = self
            && !range.is_empty()
        {
            let _ = m.advise_range(Advice::WillNeed, range.start, range.len());
            let _ = m.advise_range(Advice::PopulateRead, range.start, range.len());
        }
    }

    /// Lets `range`'s pages go (they stay in the page cache, and are read again from there
    /// if touched). A hint: nothing happens if it fails.
    fn release(&self, range: Range<usize>) {
        if let Whole::Mapped(m) = self
            && !range.is_empty()
        {
            // SAFETY: the mapping is read-only and never written, so dropping its pages
            // loses nothing: a later read of `range` maps the file's pages again.
            let _ = unsafe {
                m.unchecked_advise_range(UncheckedAdvice::DontNeed, range.start, range.len())
            };
        }
    }
}

/// `path` mapped read-only, when it is a regular file that is not empty and can be mapped.
fn map(path: &Path) -> Result<Option<Mmap>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() == 0 {
        return Ok(None);
    }
    // SAFETY: the map is only read, as bytes checked like any others (UTF-8 included) before
    // they are used. As with every tool that maps its input (ripgrep does by default), a file
    // changed by another process while it is ingested is read as it is at each moment, and
    // one cut short ends the process with SIGBUS: the store then keeps its last commit, as
    // after any crash, and the kept original's length is checked against what was read.
    let mapped = unsafe { Mmap::map(&file) };
    let Ok(mapped) = mapped else {
        return Ok(None);
    };
    let _ = mapped.advise(Advice::Sequential);
    Ok(Some(mapped))
}

/// A chunk that was checked and waits to be decided: where it is, and its groups.
type Waiting = (Range<usize>, Vec<Group>);

impl<'a> Intake<'a> {
    /// NDJSON source `si` read in place, when its bytes can be had at once; `false`, having
    /// read nothing, when they cannot (a device, an empty file, a file that does not map)
    /// or files are not to be mapped ([`crate::ingest::IngestOptions::map_files`]).
    pub(super) fn ndjson_in_place(&mut self, si: usize) -> Result<bool> {
        let sources = self.sources;
        let Some(whole_source) = self.open_in_place(si)? else {
            return Ok(false);
        };
        let bytes = whole_source.bytes();
        let (max, step) = (self.opts.max_document_bytes, self.step());
        let mut pending: Option<Waiting> = None;
        let mut pos = 0;
        let mut line_no = 1;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let cut = match rest.len() <= step {
                true => rest.len(),
                false => match memchr::memrchr(b'\n', &rest[..step]) {
                    Some(i) => i + 1,
                    None => {
                        // A line longer than a chunk: where it ends, its pages let go as they
                        // are read past.
                        let end = line_end(&whole_source, pos + step, step) - pos;
                        if end > max.saturating_add(2) {
                            (self.progress)(end as u64);
                            self.decide_in_place(si, &whole_source, &mut pending)?;
                            self.reject(si, line_no, whole(size_message(end, max)))?;
                            line_no += 1;
                            let next = pos + (end + 1).min(rest.len());
                            whole_source.release(pos..next);
                            pos = next;
                            continue;
                        }
                        (end + 1).min(rest.len())
                    }
                },
            };
            let skip = match pos {
                0 => rest.len() - strip_bom(rest).len(),
                _ => 0,
            };
            let chunk = Chunk {
                source: si,
                bytes: &rest[..cut],
                base: pos as u64,
            };
            // The chunk is cut into lines on the checking thread, beside the decision on the
            // chunk before: on this one, every other core waited for it (a search of the
            // whole chunk for line breaks, read from memory: 0.4 s of a million footprints'
            // ingest, BENCHMARKS.md).
            let split = move || {
                let (units, breaks, used) =
                    ndjson_units(chunk.bytes, skip, line_no, max, MOST_LINES);
                let documents = units.len();
                (units, (breaks, used, documents))
            };
            let (checked, (breaks, used, documents)) =
                self.check_in_place(&whole_source, &mut pending, chunk, split, cut)?;
            if used == 0 {
                return Err(Error::Internal(format!(
                    "no line read at byte {pos} of {}",
                    sources[si].name
                )));
            }
            if pos == 0 {
                // Before the first decision, which comes with the next chunk's check.
                self.expect_documents(si, documents, used);
            }
            line_no += breaks;
            pending = Some((pos..pos + used, checked));
            pos += used;
        }
        self.decide_in_place(si, &whole_source, &mut pending)?;
        self.read_in_place(si, whole_source)
    }

    /// Source `si`, a JSON text over the document size limit, read in place as
    /// [`Intake::json_array`] reads it in chunks (the same units, lines and reports); `false`,
    /// having read nothing, when its bytes cannot be had at once.
    pub(super) fn json_array_in_place(&mut self, si: usize) -> Result<bool> {
        let Some(whole_source) = self.open_in_place(si)? else {
            return Ok(false);
        };
        let bytes = whole_source.bytes();
        let (max, step) = (self.opts.max_document_bytes, self.step());
        let head = &bytes[..step.min(bytes.len())];
        let skip = head.len() - strip_bom(head).len();
        let Some((mut scan, at, breaks)) = array::open(&head[skip..]) else {
            self.reject(si, 1, whole(size_message(bytes.len(), max)))?;
            (self.progress)(bytes.len() as u64);
            return self.read_in_place(si, whole_source);
        };
        let mut pos = skip + at;
        let mut line_no = 1 + breaks;
        (self.progress)(pos as u64);
        let mut pending: Option<Waiting> = None;
        // How far past `pos` a chunk reaches: a step, or more while an element is read whole.
        let mut reach = step;
        while pos < bytes.len() {
            let end = pos.saturating_add(reach).min(bytes.len());
            let chunk = Chunk {
                source: si,
                bytes: &bytes[pos..end],
                base: pos as u64,
            };
            let last = end == bytes.len();
            let split = array::units(&mut scan, chunk.bytes, line_no, max, MOST_LINES, last);
            if split.units.is_empty() && split.more {
                // An element longer than the chunk: read on until it ends, or measure it
                // without keeping it once it is over the limit.
                line_no += split.breaks;
                pos += split.used;
                (self.progress)(split.used as u64);
                if end - pos <= max.saturating_add(2) {
                    reach = (end - pos).saturating_add(step);
                    continue;
                }
                self.decide_in_place(si, &whole_source, &mut pending)?;
                let (len, lines) = value_end(&whole_source, pos, step);
                (self.progress)(len as u64);
                self.reject(si, line_no, whole(size_message(len, max)))?;
                scan.skipped();
                line_no += lines;
                whole_source.release(pos..pos + len);
                pos += len;
                reach = step;
                continue;
            }
            let (breaks, used) = (split.breaks, split.used);
            if used == 0 {
                return Err(Error::Internal(format!(
                    "nothing read at byte {pos} of {}",
                    self.sources[si].name
                )));
            }
            let units = split.units;
            let (checked, ()) = self.check_in_place(
                &whole_source,
                &mut pending,
                chunk,
                move || (units, ()),
                used,
            )?;
            line_no += breaks;
            pending = Some((pos..pos + used, checked));
            pos += used;
            reach = step;
        }
        self.decide_in_place(si, &whole_source, &mut pending)?;
        if let Some(message) = array::unfinished(&scan) {
            self.reject(si, line_no, whole(message))?;
        }
        self.read_in_place(si, whole_source)
    }

    /// Source `si`'s bytes, all at hand, its original kept and its first step's pages
    /// mapped: its bytes in memory, or its file mapped (when files are mapped and this one
    /// can be); `None`, with nothing done, otherwise.
    fn open_in_place(&mut self, si: usize) -> Result<Option<Whole<'a>>> {
        let sources: &'a [super::Source] = self.sources;
        let whole_source = match &sources[si].data {
            Data::Bytes(b) => Whole::Bytes(b),
            Data::File(path) if self.opts.map_files => match map(path)? {
                Some(m) => Whole::Mapped(m),
                None => return Ok(None),
            },
            Data::File(_) => return Ok(None),
        };
        timed(&mut self.phases.write, || self.sink.keep_original(si))?;
        whole_source.prefetch(0..self.step().min(whole_source.bytes().len()));
        Ok(Some(whole_source))
    }

    /// Source `si` was read in place to its end: what was kept of it must be as long.
    fn read_in_place(&mut self, si: usize, whole_source: Whole) -> Result<bool> {
        let len = whole_source.bytes().len() as u64;
        drop(whole_source);
        timed(&mut self.phases.write, || self.sink.original_read(si, len))?;
        Ok(true)
    }

    /// Checks the units `split` cuts `chunk` into on every core (see [`Intake::check_while`]),
    /// while on this thread the chunk before it (`pending`) is decided and the pages of the
    /// next step past its first `used` bytes (at most) are mapped.
    fn check_in_place<'c, T: Send>(
        &mut self,
        whole_source: &Whole,
        pending: &mut Option<Waiting>,
        chunk: Chunk<'c>,
        split: impl FnOnce() -> (Vec<Unit<'c>>, T) + Send,
        used: usize,
    ) -> Result<(Vec<Group>, T)> {
        let next = usize::try_from(chunk.base)
            .unwrap_or(usize::MAX)
            .saturating_add(used);
        let next = next..next
            .saturating_add(self.step())
            .min(whole_source.bytes().len());
        let si = chunk.source;
        self.check_while(chunk, split, |intake| {
            let decided = intake.decide_in_place(si, whole_source, pending);
            whole_source.prefetch(next);
            decided
        })
    }

    /// Decides on the chunk `pending` holds, if any, and lets its pages go.
    fn decide_in_place(
        &mut self,
        si: usize,
        whole_source: &Whole,
        pending: &mut Option<Waiting>,
    ) -> Result<()> {
        let Some((range, checked)) = pending.take() else {
            return Ok(());
        };
        let chunk = Chunk {
            source: si,
            bytes: &whole_source.bytes()[range.clone()],
            base: range.start as u64,
        };
        self.footprint_chunk(Some(chunk), checked)?;
        whole_source.release(range);
        Ok(())
    }
}

/// Where a line that has no break before `from` ends (its line break at or after `from`, or
/// the end of the source), searched a step at a time; the pages read past are let go.
fn line_end(whole_source: &Whole, from: usize, step: usize) -> usize {
    let bytes = whole_source.bytes();
    let mut at = from;
    loop {
        let end = (at + step).min(bytes.len());
        whole_source.prefetch(at..end);
        if let Some(i) = memchr::memchr(b'\n', &bytes[at..end]) {
            return at + i;
        }
        whole_source.release(at..end);
        if end == bytes.len() {
            return end;
        }
        at = end;
    }
}

/// The length of the value that starts at `from` and the line breaks in it, read a step at a
/// time (the value's end found as [`Intake::json_array`]'s reader finds it), the pages read
/// past let go as it goes.
fn value_end(whole_source: &Whole, from: usize, step: usize) -> (usize, usize) {
    let bytes = whole_source.bytes();
    let mut end = ValueEnd::default();
    let (mut at, mut lines) = (from, 0);
    loop {
        let stop = at.saturating_add(step).min(bytes.len());
        whole_source.prefetch(at..stop);
        let piece = &bytes[at..stop];
        if let Some(n) = end.feed(piece) {
            lines += memchr::memchr_iter(b'\n', &piece[..n]).count();
            return (end.read, lines);
        }
        lines += memchr::memchr_iter(b'\n', piece).count();
        whole_source.release(at..stop);
        if stop == bytes.len() {
            return (end.read, lines);
        }
        at = stop;
    }
}
