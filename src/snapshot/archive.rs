//! The bundle on disk. Each item's stream is redacted and hashed as it arrives; small items
//! stay in memory, bigger ones are compressed as they arrive into a spool file next to the
//! output (zstd frames of their own: a tar header needs the size first, and compressing
//! while receiving spreads the CPU work over the nodes' streams). One writer thread appends
//! finished items to the archive: the tar header goes into the running zstd frame, a spooled
//! item's frames are copied as they are, and the stream goes on in a new frame. Concatenated zstd
//! frames decompress to one tar stream (`zstd -d`, `tar --zstd`). The archive is written
//! under a temporary name, synced and renamed. `verify` reads a bundle back.

use super::manifest::{self, Manifest};
use super::redact::{Redactor, Rules};
use futures::task::AtomicWaker;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::SystemTime;

/// Items up to this size stay in memory; bigger ones go to a spool file.
pub const MEMORY_SPOOL: usize = 1 << 20;
/// zstd level 1: on logs it compressed better than 3 here (140 vs 153 MiB for 1 GB) at about
/// half the CPU, and CPU is what bounds a bundle when nodes and pairctl share cores.
pub const ZSTD_LEVEL: i32 = 1;
/// Finished items waiting for the writer (each at most `MEMORY_SPOOL` in memory).
const WRITER_QUEUE: usize = 4;
/// What a discovery item keeps of its raw output to parse (file lists, pod lists).
pub const CAPTURE_LIMIT: usize = 8 << 20;

/// Where a run writes: the final name, the temporary name it is written under, and the
/// spool directory, all in the same directory (so the rename is atomic).
#[derive(Debug, Clone)]
pub struct OutputPaths {
    pub archive: PathBuf,
    pub temp: PathBuf,
    pub spool_dir: PathBuf,
}

/// Why `-O` names no place for the bundle.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("output directory {} does not exist", .0.display())]
    NoDirectory(PathBuf),
    #[error("{} is not a file name", .0.display())]
    NotAFileName(PathBuf),
}

/// Why a bundle could not be read through (its path, then what went wrong).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {path}: {1}", path = .0.display())]
    Open(PathBuf, io::Error),
    #[error("{path}: not a zstd stream: {1}", path = .0.display())]
    NotZstd(PathBuf, io::Error),
    #[error("{path}: cannot read the archive: {1}", path = .0.display())]
    Read(PathBuf, io::Error),
    #[error("{path}: no {name} inside: not a pairctl snapshot", path = .0.display(), name = manifest::FILE_NAME)]
    NoManifest(PathBuf),
    #[error("{path}: {name} is not valid: {1}", path = .0.display(), name = manifest::FILE_NAME)]
    BadManifest(PathBuf, serde_json::Error),
}

impl OutputPaths {
    /// `output`: a file, an existing directory (or a path ending in `/`), or None for the
    /// current directory. The generated name is
    /// `pairctl-snapshot-<cluster>-<YYYYmmddTHHMMSSZ>.tar.zst`.
    pub fn new(
        output: Option<&Path>,
        cluster: &str,
        created: SystemTime,
    ) -> Result<Self, OutputError> {
        let name = archive_name(cluster, created);
        let archive = match output {
            None => PathBuf::from(".").join(&name),
            Some(p) if p.is_dir() => p.join(&name),
            Some(p) if p.as_os_str().to_string_lossy().ends_with('/') => {
                return Err(OutputError::NoDirectory(p.to_path_buf()))
            }
            Some(p) => {
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
                if let Some(dir) = parent {
                    if !dir.is_dir() {
                        return Err(OutputError::NoDirectory(dir.to_path_buf()));
                    }
                }
                p.to_path_buf()
            }
        };
        let dir = archive
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let file_name = archive
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .ok_or_else(|| OutputError::NotAFileName(archive.clone()))?;
        let pid = std::process::id();
        Ok(OutputPaths {
            temp: dir.join(format!(".{file_name}.partial-{pid}")),
            spool_dir: dir.join(format!(".{file_name}.spool-{pid}")),
            archive,
        })
    }
}

pub fn archive_name(cluster: &str, created: SystemTime) -> String {
    format!(
        "pairctl-snapshot-{}-{}.tar.zst",
        super::collectors::path_safe(cluster),
        compact_utc(created)
    )
}

/// `20240501T100000Z`.
pub fn compact_utc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(['-', ':'], "")
}

/// Removes the spool directory (and whatever is left in it) when the run ends, however.
pub struct SpoolDir {
    path: PathBuf,
    next: std::sync::atomic::AtomicU64,
}

impl SpoolDir {
    pub fn create(path: &Path) -> io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(path)?;
        Ok(SpoolDir {
            path: path.to_path_buf(),
            next: 0.into(),
        })
    }
    pub fn next_file(&self) -> PathBuf {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.path.join(format!("item-{n}"))
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Where an item's stored bytes are.
#[derive(Debug)]
pub enum Body {
    Memory(Vec<u8>),
    /// A spool file holding the item as zstd frames of `size` bytes once decompressed;
    /// removed once appended.
    Compressed {
        path: PathBuf,
        size: u64,
    },
}

/// What an item's sink stored.
#[derive(Debug)]
pub struct Stored {
    pub body: Body,
    pub bytes: u64,
    pub sha256: String,
    pub redactions: u64,
    /// The raw (unredacted) output, when asked for: discovery items are parsed from it.
    pub captured: Option<Vec<u8>>,
}

/// A spooled item is compressed in frames of this much: one-shot compression of a whole
/// buffer is a third cheaper than zstd's streaming mode (which works in a ring buffer), and
/// the concatenated frames are one zstd stream all the same. (Level 1 matches within 512 KiB:
/// a bigger frame would not compress better.)
const SPOOL_FRAME: usize = 1 << 20;
/// Full frames that may wait for an item's compressor. One was too tight on a loaded
/// machine: each time the compressor thread lost its core the receiving task stalled, then
/// the SSH stream; with a few frames of slack the stages run on while another waits
/// (with one, pairctl kept 0.57 of a CPU busy on the snapshot bench at load 4.5; with three
/// its median went from 19.5 to 15.3 s at load 11-13). Memory: this many MiB more per big
/// item in flight.
const SPOOL_QUEUE: usize = 3;
/// The compressor's hash table, as a power of two: level 1 sizes it for 1 MiB frames at
/// 2^13 entries; 2^12 stays in the core's L1/L2 cache and compressed the bench's logs with
/// 14% less CPU, into a slightly smaller archive (67 instead of 70 MiB for 500 MiB).
const SPOOL_HASH_LOG: u32 = 12;

enum Spool {
    Memory(Vec<u8>),
    Compressed(FrameSpool),
}

/// Whether handing a full frame to the compressor may wait for it (the synchronous API) or
/// must not (a poll: the waker is called when the compressor takes the frame in its hands).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    Block,
    Poll,
}

/// An item being compressed into its spool file, a frame at a time, on a thread of its own:
/// the task that receives the stream only redacts and hashes, and goes on reading the node
/// while the previous frame compresses (on a second core when there is one). At most one
/// `SPOOL_QUEUE` frames wait for the compressor, besides the one being filled and the one
/// compressing.
struct FrameSpool {
    pending: Vec<u8>,
    frames: Option<mpsc::SyncSender<Vec<u8>>>,
    /// Buffers the compressor is done with, for reuse.
    spare: mpsc::Receiver<Vec<u8>>,
    /// Woken when the compressor takes a frame (the slot is free again).
    taken: Arc<AtomicWaker>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl FrameSpool {
    fn create(path: &Path, first: Vec<u8>) -> io::Result<Self> {
        let file = create_private(path)?;
        let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL)?;
        compressor.include_checksum(true)?;
        compressor.set_parameter(zstd::zstd_safe::CParameter::HashLog(SPOOL_HASH_LOG))?;
        let (frames, incoming) = mpsc::sync_channel(SPOOL_QUEUE);
        let (give_back, spare) = mpsc::channel();
        let taken = Arc::new(AtomicWaker::new());
        let woken = taken.clone();
        let thread = std::thread::Builder::new()
            .name("snapshot-zstd".into())
            .spawn(move || compress_frames(file, compressor, &incoming, &give_back, &woken))?;
        let mut pending = first;
        pending.reserve(SPOOL_FRAME.saturating_sub(pending.len()));
        Ok(FrameSpool {
            pending,
            frames: Some(frames),
            spare,
            taken,
            thread: Some(thread),
        })
    }

    /// Appends; hands the frame over once full (with `Wait::Poll`, only if the compressor has
    /// room: otherwise the frame grows until `poll_room`).
    fn write(&mut self, data: &[u8], wait: Wait) -> io::Result<()> {
        self.pending.extend_from_slice(data);
        if self.pending.len() >= SPOOL_FRAME {
            self.hand_over(wait)?;
        }
        Ok(())
    }

    /// Ready when no full frame is waiting here for the compressor.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending.len() < SPOOL_FRAME {
            return Poll::Ready(Ok(()));
        }
        if let Err(e) = self.hand_over(Wait::Poll) {
            return Poll::Ready(Err(e));
        }
        if self.pending.len() < SPOOL_FRAME {
            return Poll::Ready(Ok(()));
        }
        self.taken.register(cx.waker());
        // The compressor may have taken its frame between the try and the registration.
        match self.hand_over(Wait::Poll) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) if self.pending.len() < SPOOL_FRAME => Poll::Ready(Ok(())),
            Ok(()) => Poll::Pending,
        }
    }

    /// Gives the pending bytes to the compressor. With `Wait::Poll` and no room, keeps them.
    fn hand_over(&mut self, wait: Wait) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let frames = self.frames.as_ref().ok_or_else(compressor_gone)?;
        let frame = std::mem::take(&mut self.pending);
        let sent = match wait {
            Wait::Block => frames.send(frame).is_ok(),
            Wait::Poll => match frames.try_send(frame) {
                Ok(()) => true,
                Err(mpsc::TrySendError::Full(frame)) => {
                    self.pending = frame;
                    return Ok(());
                }
                Err(mpsc::TrySendError::Disconnected(_)) => false,
            },
        };
        if !sent {
            // The compressor stopped: its own error says why.
            return Err(self.join().err().unwrap_or_else(compressor_gone));
        }
        self.pending = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(SPOOL_FRAME));
        Ok(())
    }

    /// Hands over the last frame and waits until everything is in the spool file.
    fn finish(mut self) -> io::Result<()> {
        self.hand_over(Wait::Block)?;
        self.join()
    }

    fn join(&mut self) -> io::Result<()> {
        self.frames = None;
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the spool compressor panicked"))),
            None => Err(compressor_gone()),
        }
    }
}

fn compressor_gone() -> io::Error {
    io::Error::other("the spool compressor stopped")
}

/// The compressor thread of one spooled item: each frame as it comes, then the buffer back.
fn compress_frames(
    mut file: File,
    mut compressor: zstd::bulk::Compressor<'static>,
    incoming: &mpsc::Receiver<Vec<u8>>,
    give_back: &mpsc::Sender<Vec<u8>>,
    taken: &AtomicWaker,
) -> io::Result<()> {
    let mut out = Vec::new();
    while let Ok(mut frame) = incoming.recv() {
        taken.wake();
        out.clear();
        out.reserve(zstd::zstd_safe::compress_bound(frame.len()));
        compressor.compress_to_buffer(&frame, &mut out)?;
        file.write_all(&out)?;
        frame.clear();
        let _ = give_back.send(frame);
    }
    file.flush()
}

/// The sink one remote command streams into: redacts line by line, hashes what is stored,
/// compresses it into the spool past `MEMORY_SPOOL`, counts what arrived. Its writes are
/// synchronous CPU work of a fraction of a millisecond per SSH packet, done on the task that
/// receives the stream: the two nodes' streams are compressed on both cores at once.
pub struct ItemSink {
    redactor: Option<Redactor>,
    hasher: Sha256,
    stored: u64,
    received: u64,
    spool: Spool,
    spool_path: PathBuf,
    scratch: Vec<u8>,
    capture: Option<Vec<u8>>,
    store_nothing: bool,
    on_received: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

impl ItemSink {
    pub fn new(rules: Option<&Arc<Rules>>, spool_path: PathBuf) -> Self {
        ItemSink {
            redactor: rules.map(|r| Redactor::new(r.clone())),
            hasher: Sha256::new(),
            stored: 0,
            received: 0,
            spool: Spool::Memory(Vec::new()),
            spool_path,
            scratch: Vec::new(),
            capture: None,
            store_nothing: false,
            on_received: None,
        }
    }

    /// Keep the raw output too (up to `CAPTURE_LIMIT`).
    pub fn capturing(mut self) -> Self {
        self.capture = Some(Vec::new());
        self
    }

    /// Keep the raw output only (up to `CAPTURE_LIMIT`) and store nothing: for output that
    /// is split into parts, each stored on its own.
    pub fn capture_only(mut self) -> Self {
        self.capture = Some(Vec::new());
        self.redactor = None;
        self.store_nothing = true;
        self
    }

    /// Called with the size of every chunk that arrives (progress).
    pub fn on_received(mut self, f: Arc<dyn Fn(u64) + Send + Sync>) -> Self {
        self.on_received = Some(f);
        self
    }

    /// Nothing has been written to it yet.
    pub fn is_untouched(&self) -> bool {
        self.received == 0
    }

    /// Takes a chunk; may wait while the compressor is `SPOOL_QUEUE` frames behind.
    pub fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        self.take_chunk(data, Wait::Block)
    }

    fn take_chunk(&mut self, data: &[u8], wait: Wait) -> io::Result<()> {
        self.received += data.len() as u64;
        if let Some(f) = &self.on_received {
            f(data.len() as u64);
        }
        if let Some(capture) = &mut self.capture {
            let room = CAPTURE_LIMIT.saturating_sub(capture.len());
            capture.extend_from_slice(&data[..data.len().min(room)]);
        }
        if self.store_nothing {
            return Ok(());
        }
        match &mut self.redactor {
            Some(r) => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                r.push(data, &mut scratch);
                let result = self.store(&scratch, wait);
                self.scratch = scratch;
                result
            }
            None => self.store(data, wait),
        }
    }

    fn store(&mut self, data: &[u8], wait: Wait) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.hasher.update(data);
        self.stored += data.len() as u64;
        match &mut self.spool {
            Spool::Memory(buf) if buf.len() + data.len() <= MEMORY_SPOOL => {
                buf.extend_from_slice(data);
                Ok(())
            }
            Spool::Memory(buf) => {
                let mut spool = FrameSpool::create(&self.spool_path, std::mem::take(buf))?;
                spool.write(data, wait)?;
                self.spool = Spool::Compressed(spool);
                Ok(())
            }
            Spool::Compressed(w) => w.write(data, wait),
        }
    }

    /// Flushes the redactor's last line and hands over what was stored.
    pub fn finish(mut self) -> io::Result<Stored> {
        let mut redactions = 0;
        if let Some(mut r) = self.redactor.take() {
            let mut tail = Vec::new();
            r.finish(&mut tail);
            self.store(&tail, Wait::Block)?;
            redactions = r.count();
        }
        let body = match self.spool {
            Spool::Memory(buf) => Body::Memory(buf),
            Spool::Compressed(spool) => {
                spool.finish()?;
                Body::Compressed {
                    path: self.spool_path.clone(),
                    size: self.stored,
                }
            }
        };
        Ok(Stored {
            body,
            bytes: self.stored,
            sha256: hex::encode(self.hasher.finalize()),
            redactions,
            captured: self.capture,
        })
    }
}

impl tokio::io::AsyncWrite for ItemSink {
    /// Pending while a full frame waits for the compressor: the stream is not read meanwhile
    /// (SSH's window holds the node back), and the task's thread is free for other work.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Spool::Compressed(spool) = &mut this.spool {
            if let Err(e) = std::task::ready!(spool.poll_room(cx)) {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(this.take_chunk(buf, Wait::Poll).map(|_| buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// One file for the archive.
#[derive(Debug)]
pub struct Entry {
    pub path: String,
    pub body: Body,
}

/// The archive's checksum and size once complete.
#[derive(Debug, Clone)]
pub struct Written {
    pub sha256: String,
    pub bytes: u64,
}

/// Appends entries to `<temp>` as tar + zstd on its own thread (compression is the CPU-heavy
/// part; the async workers keep receiving meanwhile).
pub struct ArchiveWriter {
    tx: tokio::sync::mpsc::Sender<Entry>,
    thread: std::thread::JoinHandle<io::Result<Written>>,
    temp: PathBuf,
}

impl ArchiveWriter {
    pub fn create(temp: &Path, mtime: SystemTime) -> io::Result<Self> {
        let file = create_private(temp)?;
        let (tx, rx) = tokio::sync::mpsc::channel(WRITER_QUEUE);
        let mtime = mtime
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let thread = std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || write_archive(file, rx, mtime))?;
        Ok(ArchiveWriter {
            tx,
            thread,
            temp: temp.to_path_buf(),
        })
    }

    /// Queues an entry; waits while the writer is behind (so spools stay bounded).
    pub async fn append(&self, entry: Entry) -> io::Result<()> {
        self.tx.send(entry).await.map_err(|_| {
            io::Error::other(format!(
                "the archive writer for {} stopped",
                self.temp.display()
            ))
        })
    }

    /// Ends the tar stream and the zstd frame, syncs the file.
    pub async fn finish(self) -> io::Result<Written> {
        let ArchiveWriter { tx, thread, .. } = self;
        drop(tx);
        tokio::task::spawn_blocking(move || {
            thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the archive writer panicked")))
        })
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e.to_string())))
    }

    /// Why the writer stopped early, if it did (a full disk…); waits for the thread.
    pub async fn failure(self) -> Option<io::Error> {
        self.finish().await.err()
    }
}

fn write_archive(
    file: File,
    mut rx: tokio::sync::mpsc::Receiver<Entry>,
    mtime: u64,
) -> io::Result<Written> {
    let out = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut tar = tar::Builder::new(FrameWriter::new(out)?);
    tar.mode(tar::HeaderMode::Deterministic);
    while let Some(entry) = rx.blocking_recv() {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        match entry.body {
            Body::Memory(data) => {
                header.set_size(data.len() as u64);
                tar.append_data(&mut header, &entry.path, data.as_slice())?;
            }
            Body::Compressed { path, size } => {
                // The header (and a long-name entry if needed) without data, then the
                // item's own frames as they are, then the padding in a new frame.
                header.set_size(size);
                tar.append_data(&mut header, &entry.path, io::empty())?;
                let mut spool = File::open(&path)?;
                tar.get_mut().copy_frame(&mut spool)?;
                drop(spool);
                let _ = std::fs::remove_file(&path);
                let padding = (512 - size % 512) % 512;
                tar.get_mut().write_all(&[0u8; 512][..padding as usize])?;
            }
        }
    }
    let frames = tar.into_inner()?;
    let HashingWriter {
        inner,
        hasher,
        bytes,
    } = frames.finish()?;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(Written {
        sha256: hex::encode(hasher.finalize()),
        bytes,
    })
}

type Out = HashingWriter<BufWriter<File>>;

/// The archive's zstd stream as a series of frames: what is written goes into the current
/// frame; `copy_frame` ends it, copies an already compressed frame, and starts the next.
struct FrameWriter {
    encoder: Option<zstd::stream::write::Encoder<'static, Out>>,
}

impl FrameWriter {
    fn new(out: Out) -> io::Result<Self> {
        Ok(FrameWriter {
            encoder: Some(Self::frame(out)?),
        })
    }
    fn frame(out: Out) -> io::Result<zstd::stream::write::Encoder<'static, Out>> {
        let mut encoder = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
        encoder.include_checksum(true)?;
        Ok(encoder)
    }
    fn encoder(&mut self) -> io::Result<&mut zstd::stream::write::Encoder<'static, Out>> {
        self.encoder
            .as_mut()
            .ok_or_else(|| io::Error::other("the archive stream was already finished"))
    }
    fn copy_frame(&mut self, frame: &mut impl Read) -> io::Result<()> {
        let encoder = self
            .encoder
            .take()
            .ok_or_else(|| io::Error::other("the archive stream was already finished"))?;
        let mut out = encoder.finish()?;
        io::copy(frame, &mut out)?;
        self.encoder = Some(Self::frame(out)?);
        Ok(())
    }
    fn finish(mut self) -> io::Result<Out> {
        let encoder = self
            .encoder
            .take()
            .ok_or_else(|| io::Error::other("the archive stream was already finished"))?;
        encoder.finish()
    }
}

impl Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.encoder()?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.encoder()?.flush()
    }
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Removes the temporary archive unless it was published.
pub struct TempArchive {
    path: PathBuf,
    armed: bool,
}

impl TempArchive {
    pub fn new(path: &Path) -> Self {
        TempArchive {
            path: path.to_path_buf(),
            armed: true,
        }
    }
    /// Renames the finished temporary file to its name, syncs the directory, and writes
    /// `<archive>.sha256` (sha256sum's format) beside it the same way.
    pub fn publish(mut self, archive: &Path, sha256: &str) -> io::Result<PathBuf> {
        std::fs::rename(&self.path, archive)?;
        self.armed = false;
        let name = archive
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sidecar = sidecar_path(archive);
        let sidecar_temp = sidecar.with_extension(format!("sha256.partial-{}", std::process::id()));
        {
            let mut f = create_private(&sidecar_temp)?;
            f.write_all(format!("{sha256}  {name}\n").as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&sidecar_temp, &sidecar)?;
        let dir = archive
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()?;
        Ok(sidecar)
    }
}

impl Drop for TempArchive {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub fn sidecar_path(archive: &Path) -> PathBuf {
    let mut s = archive.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// The result of reading a bundle back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub archive_sha256: String,
    /// `<archive>.sha256` beside it: Some(true) when it matches, None when absent.
    pub sidecar_matches: Option<bool>,
    /// Per stored item path: "ok", "sha256 mismatch", "size mismatch", "missing".
    pub checks: HashMap<String, String>,
    /// Everything wrong, as "path: problem".
    pub problems: Vec<String>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads the whole bundle once: hashes every file, then checks them against the manifest
/// (which is written last). Memory stays bounded: files are streamed through the hash.
pub fn verify(path: &Path) -> Result<(Manifest, Verification), ReadError> {
    let file = File::open(path).map_err(|e| ReadError::Open(path.to_path_buf(), e))?;
    let reader = HashingReader {
        inner: file,
        hasher: Sha256::new(),
    };
    let decoder =
        zstd::Decoder::new(reader).map_err(|e| ReadError::NotZstd(path.to_path_buf(), e))?;
    let mut archive = tar::Archive::new(decoder);
    let mut found: HashMap<String, (String, u64)> = HashMap::new();
    let mut manifest_text: Option<Vec<u8>> = None;
    let mut problems = Vec::new();
    let bad = |e: io::Error| ReadError::Read(path.to_path_buf(), e);
    let mut buf = vec![0u8; 256 << 10];
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        if name == manifest::FILE_NAME {
            let mut text = Vec::new();
            (&mut entry)
                .take(64 << 20)
                .read_to_end(&mut text)
                .map_err(bad)?;
            manifest_text = Some(text);
            continue;
        }
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(bad)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        if found
            .insert(name.clone(), (hex::encode(hasher.finalize()), size))
            .is_some()
        {
            problems.push(format!("{name}: stored twice"));
        }
    }
    // Read to the end of the file so the archive's own checksum covers every byte.
    let decoder = archive.into_inner();
    let mut rest = decoder.finish();
    io::copy(&mut rest, &mut io::sink()).map_err(bad)?;
    let archive_sha256 = hex::encode(rest.into_inner().hasher.finalize());

    let text = manifest_text.ok_or_else(|| ReadError::NoManifest(path.to_path_buf()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| ReadError::BadManifest(path.to_path_buf(), e))?;

    let mut checks = HashMap::new();
    for item in &manifest.items {
        let Some(want) = &item.sha256 else { continue };
        let verdict = match found.remove(&item.path) {
            None => "missing",
            Some((sha, _)) if &sha != want => "sha256 mismatch",
            Some((_, size)) if size != item.bytes => "size mismatch",
            Some(_) => "ok",
        };
        if verdict != "ok" {
            problems.push(format!("{}: {verdict}", item.path));
        }
        checks.insert(item.path.clone(), verdict.to_string());
    }
    let mut unlisted: Vec<String> = found.into_keys().collect();
    unlisted.sort();
    for name in unlisted {
        problems.push(format!("{name}: not in the manifest"));
    }

    let sidecar_matches = std::fs::read_to_string(sidecar_path(path))
        .ok()
        .map(|text| text.split_whitespace().next() == Some(archive_sha256.as_str()));
    if sidecar_matches == Some(false) {
        problems.push(format!(
            "{}: the archive's sha256 is {archive_sha256}, not the one recorded beside it",
            path.display()
        ));
    }
    Ok((
        manifest,
        Verification {
            archive_sha256,
            sidecar_matches,
            checks,
            problems,
        },
    ))
}

struct HashingReader<R: Read> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::snapshot::manifest::{Item, Outcome, Window, SCHEMA};

    fn manifest_for(items: Vec<Item>) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            tool: "pairctl".into(),
            tool_version: "test".into(),
            cluster: "t".into(),
            window: Window {
                since: "a".into(),
                until: "b".into(),
            },
            created: "c".into(),
            duration_ms: 1,
            redacted: true,
            partial: false,
            nodes: vec![],
            items,
        }
    }

    fn item(path: &str, stored: &Stored) -> Item {
        Item {
            node: "n1".into(),
            collector: "test".into(),
            path: path.into(),
            bytes: stored.bytes,
            sha256: Some(stored.sha256.clone()),
            exit_status: Some(0),
            started_ms: 0,
            duration_ms: 1,
            timed_out: false,
            error: None,
            redactions: stored.redactions,
            outcome: Outcome::Ok,
        }
    }

    fn sink_with(dir: &Path, rules: Option<&Arc<Rules>>, chunks: &[&[u8]]) -> Stored {
        let spool = dir.join(format!("spool-{}", chunks.len()));
        let mut sink = ItemSink::new(rules, spool);
        for c in chunks {
            sink.write_chunk(c).unwrap();
        }
        sink.finish().unwrap()
    }

    #[test]
    fn names_and_paths() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_714_557_600);
        assert_eq!(
            archive_name("fabric a/b", t),
            "pairctl-snapshot-fabric_a_b-20240501T100000Z.tar.zst"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = OutputPaths::new(Some(dir.path()), "x", t).unwrap();
        assert_eq!(p.archive.parent().unwrap(), dir.path());
        assert_eq!(p.temp.parent().unwrap(), dir.path());
        assert!(p
            .temp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".pairctl-snapshot-x-"));
        let f = OutputPaths::new(Some(&dir.path().join("b.tar.zst")), "x", t).unwrap();
        assert_eq!(f.archive, dir.path().join("b.tar.zst"));
        assert!(OutputPaths::new(Some(&dir.path().join("nope/b.tar.zst")), "x", t).is_err());
        assert!(OutputPaths::new(Some(Path::new("/nonexistent-dir/")), "x", t).is_err());
        let here = OutputPaths::new(None, "x", t).unwrap();
        assert_eq!(here.archive.parent().unwrap(), Path::new("."));
    }

    #[test]
    fn sink_spools_big_items_to_a_file_and_hashes_what_it_stores() {
        let dir = tempfile::tempdir().unwrap();
        let small = sink_with(dir.path(), None, &[b"hello\n"]);
        assert!(matches!(small.body, Body::Memory(_)));
        assert_eq!(small.sha256, hex::encode(Sha256::digest(b"hello\n")));
        // Past SPOOL_FRAME: several frames in the spool file, one stream all the same.
        let big_chunk: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<&[u8]> = std::iter::repeat_n(big_chunk.as_slice(), 5).collect();
        let big = sink_with(dir.path(), None, &chunks);
        let Body::Compressed { path, size } = &big.body else {
            panic!("5 MB should be spooled to a file")
        };
        assert_eq!(*size, 5_000_000);
        assert_eq!(big.bytes, 5_000_000);
        assert_eq!(big.sha256, hex::encode(Sha256::digest(big_chunk.repeat(5))));
        let frames = std::fs::read(path).unwrap();
        assert!(frames.len() < 100_000, "compressed: {} bytes", frames.len());
        assert_eq!(
            zstd::decode_all(frames.as_slice()).unwrap(),
            big_chunk.repeat(5)
        );

        // Capture only: the raw output kept, nothing stored.
        let mut sink =
            ItemSink::new(Some(&Rules::new(["tops3cret"])), dir.path().join("c")).capture_only();
        sink.write_chunk(b"password=tops3cret\n").unwrap();
        let captured = sink.finish().unwrap();
        assert_eq!(
            captured.captured.as_deref(),
            Some(&b"password=tops3cret\n"[..])
        );
        assert_eq!((captured.bytes, captured.redactions), (0, 0));
        let rules = Rules::new(["tops3cret"]);
        let redacted = sink_with(
            dir.path(),
            Some(&rules),
            &[b"pass", b"word=abc\nx tops3", b"cret"],
        );
        let Body::Memory(data) = &redacted.body else {
            panic!()
        };
        assert_eq!(data.as_slice(), b"password=[redacted]\nx [redacted]");
        assert_eq!(redacted.redactions, 2);
        assert_eq!(redacted.sha256, hex::encode(Sha256::digest(data)));
    }

    /// Written as a stream is (poll_write, SSH-sized chunks), past many frames and with the
    /// redactor on: what the spool holds decompresses to what was stored, and the hash is
    /// of that; a secret split across chunks is gone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_is_compressed_on_the_side_in_order() {
        use tokio::io::AsyncWriteExt;
        let dir = tempfile::tempdir().unwrap();
        let line = |i: u32| {
            format!(
                "{i:08} mariadbd[9]: WSREP: member synced, seqno {}\n",
                i * 7
            )
        };
        let mut text: Vec<u8> = (0..200_000).flat_map(|i| line(i).into_bytes()).collect();
        text.extend_from_slice(b"x password=Pw-In-The-Middle\n");
        text.extend((200_000..260_000).flat_map(|i| line(i).into_bytes()));
        assert!(text.len() > 8 * SPOOL_FRAME);
        let rules = Rules::new(Vec::<&str>::new());
        let mut sink = ItemSink::new(Some(&rules), dir.path().join("s"));
        for chunk in text.chunks(32 << 10) {
            sink.write_all(chunk).await.unwrap();
        }
        sink.flush().await.unwrap();
        let stored = tokio::task::spawn_blocking(move || sink.finish())
            .await
            .unwrap()
            .unwrap();
        let Body::Compressed { path, size } = &stored.body else {
            panic!("spooled")
        };
        let back = zstd::decode_all(File::open(path).unwrap()).unwrap();
        let want = String::from_utf8(text)
            .unwrap()
            .replace("Pw-In-The-Middle", "[redacted]")
            .into_bytes();
        assert_eq!(
            (back.len() as u64, *size, stored.redactions),
            (want.len() as u64, stored.bytes, 1)
        );
        assert!(
            back == want,
            "the frames came back in another order or changed"
        );
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(&want)));
    }

    /// Copies the bundle `from` to `to` with n1/test/a.txt's content changed and
    /// n1/test/b.bin left out (the manifest untouched).
    fn rewrite_tampered(from: &Path, to: &Path) {
        let out = zstd::Encoder::new(File::create(to).unwrap(), 3).unwrap();
        let mut tar = tar::Builder::new(out);
        let mut input = tar::Archive::new(zstd::Decoder::new(File::open(from).unwrap()).unwrap());
        for e in input.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            if name == "n1/test/a.txt" {
                data = b"alphA\n".to_vec();
            }
            if name == "n1/test/b.bin" {
                continue;
            }
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, &name, data.as_slice()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }

    #[tokio::test]
    async fn write_publish_then_verify_and_detect_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let created = SystemTime::now();
        let paths = OutputPaths::new(Some(dir.path()), "t", created).unwrap();
        let spool = SpoolDir::create(&paths.spool_dir).unwrap();
        let writer = ArchiveWriter::create(&paths.temp, created).unwrap();
        let guard = TempArchive::new(&paths.temp);

        let a = sink_with(dir.path(), None, &[b"alpha\n"]);
        let big_chunk = vec![b'y'; 700_000];
        let mut sink = ItemSink::new(None, spool.next_file());
        for _ in 0..3 {
            sink.write_chunk(&big_chunk).unwrap();
        }
        let b = sink.finish().unwrap();
        let m = manifest_for(vec![item("n1/test/a.txt", &a), item("n1/test/b.bin", &b)]);
        let spool_file = match &b.body {
            Body::Compressed { path, .. } => path.clone(),
            Body::Memory(_) => panic!("expected a spool file"),
        };
        writer
            .append(Entry {
                path: "n1/test/a.txt".into(),
                body: a.body,
            })
            .await
            .unwrap();
        writer
            .append(Entry {
                path: "n1/test/b.bin".into(),
                body: b.body,
            })
            .await
            .unwrap();
        writer
            .append(Entry {
                path: manifest::FILE_NAME.into(),
                body: Body::Memory(serde_json::to_vec(&m).unwrap()),
            })
            .await
            .unwrap();
        let written = writer.finish().await.unwrap();
        assert!(
            !spool_file.exists(),
            "spool files are removed once appended"
        );
        assert!(
            paths.temp.exists() && !paths.archive.exists(),
            "written under the temporary name"
        );
        let sidecar = guard.publish(&paths.archive, &written.sha256).unwrap();
        drop(spool);
        assert!(!paths.temp.exists() && paths.archive.exists());
        assert!(!paths.spool_dir.exists());
        let sidecar_text = std::fs::read_to_string(&sidecar).unwrap();
        let file_name = paths
            .archive
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(sidecar_text, format!("{}  {file_name}\n", written.sha256));
        let on_disk = std::fs::read(&paths.archive).unwrap();
        assert_eq!(on_disk.len() as u64, written.bytes);
        assert_eq!(hex::encode(Sha256::digest(&on_disk)), written.sha256);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&paths.archive)
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );

        let (back, v) = verify(&paths.archive).unwrap();
        assert_eq!(back, m);
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(v.sidecar_matches, Some(true));
        assert_eq!(
            v.checks.get("n1/test/b.bin").map(String::as_str),
            Some("ok")
        );

        // Rewrite the archive with one item's content changed (the manifest untouched).
        let tampered = dir.path().join("tampered.tar.zst");
        rewrite_tampered(&paths.archive, &tampered);
        let (_, v) = verify(&tampered).unwrap();
        assert!(!v.ok());
        assert!(
            v.problems
                .contains(&"n1/test/a.txt: sha256 mismatch".to_string()),
            "{:?}",
            v.problems
        );
        assert!(
            v.problems.contains(&"n1/test/b.bin: missing".to_string()),
            "{:?}",
            v.problems
        );
        assert_eq!(v.sidecar_matches, None);

        // A byte flipped in the compressed file: zstd's checksum or the tar reader notices,
        // or the item hashes do; and the sidecar no longer matches either way.
        let mut bytes = std::fs::read(&paths.archive).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&paths.archive, &bytes).unwrap();
        match verify(&paths.archive) {
            Ok((_, v)) => assert!(!v.ok()),
            Err(e) => assert!(
                matches!(e, ReadError::Read(..) | ReadError::BadManifest(..)),
                "{e}"
            ),
        }
    }

    #[tokio::test]
    async fn abandoned_run_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let created = SystemTime::now();
        let paths = OutputPaths::new(Some(dir.path()), "t", created).unwrap();
        {
            let spool = SpoolDir::create(&paths.spool_dir).unwrap();
            let writer = ArchiveWriter::create(&paths.temp, created).unwrap();
            let _guard = TempArchive::new(&paths.temp);
            let mut sink = ItemSink::new(None, spool.next_file());
            sink.write_chunk(&vec![b'z'; 2 << 20]).unwrap();
            let _ = sink.finish().unwrap();
            drop(writer);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
