//! The data directory: one Parquet file per table per ingest, every original document as
//! received, and a manifest naming the committed ingests.
//!
//! ```text
//! DIR/manifest.json            the committed ingests (replaced atomically)
//! DIR/lock                     held by the one ingest that may write
//! DIR/segments/000001/         one directory per ingest, never changed once committed
//!     footprints.parquet  footprint_extensions.parquet  bom.parquet  ingest_log.parquet
//!     gx_attributes.parquet
//!     originals/000-<file>     the bytes exactly as received
//! DIR/tmp/                     ingests being written
//! ```
//!
//! A commit writes a whole segment under `tmp/`, fsyncs it, renames it into `segments/`,
//! then replaces the manifest by rename. A crash at any point leaves the previous manifest
//! and therefore the previous state; a segment that was renamed but never reached the
//! manifest is removed by the next commit. Readers take no lock: they see the manifest as
//! of the moment they read it. This module validates nothing; `ingest` decides what to store.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::ingest::{Prepared, Source};
use crate::table::{self, Tables};
use crate::{Error, Result};

const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "mieruka-data-directory";
const FORMAT_VERSION: u32 = 1;

/// What `manifest.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    segments: Vec<Segment>,
}

/// One committed ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Segment {
    seq: i64,
    dir: String,
    committed_at: String,
    footprints: usize,
    bom_edges: usize,
    originals: Vec<String>,
}

impl Manifest {
    fn empty() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            segments: Vec::new(),
        }
    }
}

/// A data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The right to commit, held until dropped (an exclusive lock on `DIR/lock`).
#[derive(Debug)]
pub struct WriteLock<'a> {
    store: &'a Store,
    _file: File,
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Directory fsync makes renames durable; it is not available on every platform.
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if cfg!(windows) => {
            tracing::debug!("directory fsync unsupported: {e}");
            Ok(())
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))?;
    for b in batches {
        writer.write(b)?;
    }
    let file = writer.into_inner()?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

fn read_parquet(path: &Path, expected: &SchemaRef) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch?;
        let same = batch.schema().fields().len() == expected.fields().len()
            && batch
                .schema()
                .fields()
                .iter()
                .zip(expected.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(Error::Store {
                dir: path.to_path_buf(),
                message: "table was written with a different schema (another mieruka version?)"
                    .into(),
            });
        }
        out.push(batch.with_schema(expected.clone())?);
    }
    Ok(out)
}

/// A file name safe to keep: the source's base name with anything unusual replaced.
fn original_name(i: usize, source: &str) -> String {
    let base = Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{i:03}-{clean}")
}

impl Store {
    /// Opens a data directory, creating it if it does not exist.
    pub fn create_or_open(dir: &Path) -> Result<Store> {
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let store = Store {
            dir: dir.to_path_buf(),
        };
        if !store.manifest_path().exists() {
            let is_empty = fs::read_dir(dir)
                .map_err(|e| Error::io(dir, e))?
                .next()
                .is_none();
            if !is_empty {
                return Err(store.err(
                    "not a mieruka data directory (no manifest.json) and not empty; choose an empty or new directory",
                ));
            }
            store.write_manifest(&Manifest::empty())?;
        }
        Ok(store)
    }

    /// Opens an existing data directory.
    pub fn open(dir: &Path) -> Result<Store> {
        let store = Store {
            dir: dir.to_path_buf(),
        };
        if !store.manifest_path().exists() {
            return Err(store.err(
                "no data directory here (no manifest.json); create one with `mieruka ingest --data DIR FILES…`",
            ));
        }
        Ok(store)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self, message: &str) -> Error {
        Error::Store {
            dir: self.dir.clone(),
            message: message.into(),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST)
    }

    fn read_manifest(&self) -> Result<Manifest> {
        let path = self.manifest_path();
        let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| self.err(&format!("manifest.json is damaged: {e}")))?;
        if m.format != FORMAT || m.version != FORMAT_VERSION {
            return Err(self.err(&format!(
                "manifest.json is format {} version {}; this mieruka reads {FORMAT} version {FORMAT_VERSION}",
                m.format, m.version
            )));
        }
        Ok(m)
    }

    fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let tmp = self.dir.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(m)
            .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        write_synced(&tmp, text.as_bytes())?;
        let path = self.manifest_path();
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        sync_dir(&self.dir)
    }

    /// Reads every committed table.
    pub fn load(&self) -> Result<Tables> {
        let m = self.read_manifest()?;
        let mut t = Tables::default();
        for seg in &m.segments {
            let dir = self.dir.join(&seg.dir);
            t.footprints.extend(read_parquet(
                &dir.join("footprints.parquet"),
                &table::footprints_stored_schema(),
            )?);
            t.footprint_extensions.extend(read_parquet(
                &dir.join("footprint_extensions.parquet"),
                &table::extensions_schema(),
            )?);
            t.bom.extend(read_parquet(
                &dir.join("bom.parquet"),
                &table::bom_schema(),
            )?);
            t.ingest_log.extend(read_parquet(
                &dir.join("ingest_log.parquet"),
                &table::ingest_log_schema(),
            )?);
            // Segments written before GX attributes existed have no such file.
            let gx = dir.join("gx_attributes.parquet");
            if gx.exists() {
                t.gx_attributes
                    .extend(read_parquet(&gx, &table::gx_schema())?);
            }
        }
        Ok(t)
    }

    /// Takes the write lock, waiting for another ingest into this directory to finish.
    pub fn lock(&self) -> Result<WriteLock<'_>> {
        let path = self.dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                tracing::warn!(
                    "another ingest is writing to {}; waiting for it to finish",
                    self.dir.display()
                );
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(WriteLock {
            store: self,
            _file: file,
        })
    }
}

impl WriteLock<'_> {
    /// Reads every committed table (under the lock, so nothing changes meanwhile).
    pub fn load(&self) -> Result<Tables> {
        self.store.load()
    }

    /// Commits `prepared` and the sources it came from as one new segment. Returns its
    /// sequence number.
    pub fn commit(&self, prepared: &Prepared, sources: &[Source]) -> Result<i64> {
        let store = self.store;
        let mut manifest = store.read_manifest()?;
        let seq = manifest.segments.iter().map(|s| s.seq).max().unwrap_or(0) + 1;
        let tables = prepared.to_tables(seq)?;

        let tmp = store
            .dir
            .join("tmp")
            .join(format!("{seq:06}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let originals_dir = tmp.join("originals");
        fs::create_dir_all(&originals_dir).map_err(|e| Error::io(&originals_dir, e))?;

        write_parquet(
            &tmp.join("footprints.parquet"),
            table::footprints_stored_schema(),
            &tables.footprints,
        )?;
        write_parquet(
            &tmp.join("footprint_extensions.parquet"),
            table::extensions_schema(),
            &tables.footprint_extensions,
        )?;
        write_parquet(&tmp.join("bom.parquet"), table::bom_schema(), &tables.bom)?;
        write_parquet(
            &tmp.join("ingest_log.parquet"),
            table::ingest_log_schema(),
            &tables.ingest_log,
        )?;
        write_parquet(
            &tmp.join("gx_attributes.parquet"),
            table::gx_schema(),
            &tables.gx_attributes,
        )?;
        let mut originals = Vec::new();
        for (i, src) in sources.iter().enumerate() {
            let name = original_name(i, &src.name);
            write_synced(&originals_dir.join(&name), &src.bytes)?;
            originals.push(name);
        }
        sync_dir(&originals_dir)?;
        sync_dir(&tmp)?;

        let segments = store.dir.join("segments");
        fs::create_dir_all(&segments).map_err(|e| Error::io(&segments, e))?;
        let rel = format!("segments/{seq:06}");
        let target = store.dir.join(&rel);
        if target.exists() {
            // Left by an ingest that crashed before its manifest was written: never committed.
            tracing::warn!("removing uncommitted segment {}", target.display());
            fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        }
        fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        sync_dir(&segments)?;

        manifest.segments.push(Segment {
            seq,
            dir: rel,
            committed_at: chrono::Utc::now().to_rfc3339(),
            footprints: prepared.footprints.len(),
            bom_edges: prepared.bom.len(),
            originals,
        });
        store.write_manifest(&manifest)?;
        Ok(seq)
    }
}
