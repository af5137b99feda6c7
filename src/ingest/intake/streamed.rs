//! A JSON file larger than one document may be: read in chunks as an array of footprints
//! (see [`array`]), like NDJSON; and the step both take with each chunk.

use super::super::array::{self, ValueEnd};
use super::{
    CheckedChunk, Chunk, Group, Intake, MOST_LINES, Reader, Unit, beside, check_units,
    chunk_buffer, give_back, size_message, strip_bom, take_chunk, whole,
};
use crate::Result;

impl Intake<'_> {
    /// Source `si`, a JSON text over the document size limit: an array of footprints or a
    /// PACT list response `{"data":[…]}` is read element by element, each element one
    /// document under the limit, in chunks checked on every core beside the decisions on the
    /// chunk before (as [`Intake::ndjson`] reads lines); anything else is one document over
    /// the limit, rejected. Memory holds a chunk or two, whatever the file's size.
    pub(super) fn json_array(&mut self, si: usize) -> Result<()> {
        if self.json_array_in_place(si)? {
            return Ok(());
        }
        let max = self.opts.max_document_bytes;
        let mut r = Reader::open(&self.sources[si])?;
        let mut buf = chunk_buffer(self.step());
        self.top_up(&mut r, si, &mut buf, self.step())?;
        let skip = buf.len() - strip_bom(&buf).len();
        let Some((mut scan, at, breaks)) = array::open(&buf[skip..]) else {
            let len = usize::try_from(self.sources[si].size()?).unwrap_or(usize::MAX);
            self.reject(si, 1, whole(size_message(len, max)))?;
            return self.skip_rest(&mut r, si, &mut buf);
        };
        buf.drain(..skip + at);
        let mut base = (skip + at) as u64;
        let mut line_no = 1 + breaks;
        (self.progress)(base);
        let mut pending = None;
        let mut spare: Vec<u8> = Vec::new();
        while self.top_up(&mut r, si, &mut buf, self.step())? {
            let cut = buf.len();
            let mut bytes = take_chunk(&mut buf, cut, &mut spare, self.step());
            let chunk = Chunk {
                source: si,
                bytes: &bytes,
                base,
            };
            let split = array::units(&mut scan, &bytes, line_no, max, MOST_LINES, r.done);
            if split.units.is_empty() && split.more {
                // An element longer than what was read: read on until it ends, or measure
                // it without keeping it once it is over the limit.
                let used = split.used;
                line_no += split.breaks;
                base += used as u64;
                (self.progress)(used as u64);
                // The element goes back to be read on in place; `buf`'s empty buffer is spare.
                bytes.drain(..used);
                spare = std::mem::replace(&mut buf, bytes);
                if buf.len() <= max.saturating_add(2) {
                    self.fill(&mut r, si, &mut buf, self.step())?;
                    continue;
                }
                self.decide_pending(si, &mut pending, &mut spare)?;
                let (len, lines) = self.skip_value(&mut r, si, &mut buf)?;
                (self.progress)(len as u64);
                self.reject(si, line_no, whole(size_message(len, max)))?;
                scan.skipped();
                line_no += lines;
                base += len as u64;
                continue;
            }
            let (breaks, used) = (split.breaks, split.used);
            let checked = self.check_beside(
                si,
                (&mut r, &mut buf),
                (&mut pending, &mut spare),
                chunk,
                split.units,
            )?;
            line_no += breaks;
            give_back(&mut bytes, used, &mut buf);
            pending = Some((bytes, base, checked));
            base += used as u64;
        }
        self.decide_pending(si, &mut pending, &mut spare)?;
        match array::unfinished(&scan) {
            Some(message) => self.reject(si, line_no, whole(message)),
            None => Ok(()),
        }
    }

    /// Checks `units`, a chunk's, on every core while on this thread the chunk before it
    /// (`pending`) is decided and the next bytes are read into `buf`: read before the check,
    /// they were copied out of the page cache with every core but this thread's idle.
    pub(super) fn check_beside(
        &mut self,
        si: usize,
        (r, buf): (&mut Reader, &mut Vec<u8>),
        (pending, spare): (&mut Option<CheckedChunk>, &mut Vec<u8>),
        chunk: Chunk,
        units: Vec<Unit>,
    ) -> Result<Vec<Group>> {
        let (checked, ()) = self.check_while(
            chunk,
            move || (units, ()),
            |intake| {
                intake.decide_pending(si, pending, spare)?;
                intake.top_up(r, si, buf, intake.step()).map(drop)
            },
        )?;
        Ok(checked)
    }

    /// Checks the units `split` cuts `chunk` into on every core while `decide` runs on this
    /// thread (deciding on the chunk before, and getting the next one's bytes ready); with
    /// what `split` told besides the units.
    pub(super) fn check_while<'c, T: Send>(
        &mut self,
        chunk: Chunk<'c>,
        split: impl FnOnce() -> (Vec<Unit<'c>>, T) + Send,
        decide: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<(Vec<Group>, T)> {
        let started = std::time::Instant::now();
        let (names, progress) = (self.names.clone(), self.progress);
        let rows = (self.sink.seq(), self.sink.keeps_records());
        let (decided, checked) = beside(
            || decide(self),
            || {
                let (units, told) = split();
                check_units(&names, progress, chunk, units, None, rows).map(|g| (g, told))
            },
        );
        decided?;
        let checked = checked?;
        self.phases.check += started.elapsed();
        Ok(checked)
    }

    /// Reads past the value that starts `buf` and goes on in `r`: its length and the line
    /// breaks in it. What follows it stays in `buf`.
    fn skip_value(
        &mut self,
        r: &mut Reader,
        si: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(usize, usize)> {
        let mut end = ValueEnd::default();
        let mut lines = 0;
        loop {
            if let Some(n) = end.feed(buf) {
                lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
                buf.drain(..n);
                return Ok((end.read, lines));
            }
            lines += memchr::memchr_iter(b'\n', buf).count();
            buf.clear();
            if r.done {
                return Ok((end.read, lines));
            }
            self.fill(r, si, buf, self.step())?;
        }
    }
}
