//! The span stream: the selected examples of a split re-read from the input in their
//! final order, a `Batch` at a time, for the format writers (`ExampleStream`). Batches
//! are bounded by count and by bytes, so no writer holds the dataset. Nothing here
//! parses an example: the writers read the text the scan validated.

use std::ops::Range;

use crate::input::Location;
use crate::inputs::Inputs;
use crate::progress::Progress;
use crate::scan::{Entry, Form};

/// One example of a `Batch`: where it is in the input and what the scan learned.
#[derive(Debug, Clone)]
pub struct Item {
    pub location: Location,
    /// The shape id (see `schema::ShapeTable`), when the scan collected shapes.
    pub shape: Option<u32>,
    pub form: Form,
    range: Range<usize>,
}

/// Examples in their final order, their texts (as in the input, already validated by
/// the scan) back to back in one buffer: writers parse only what they use, with
/// `json::ExampleText`, and copy through what they can.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

impl Batch {
    /// A batch over `bytes`, with each item's text at its range.
    pub fn from_parts(
        bytes: Vec<u8>,
        items: Vec<(Location, Option<u32>, Form, Range<usize>)>,
    ) -> Batch {
        Batch {
            bytes,
            items: items
                .into_iter()
                .map(|(location, shape, form, range)| Item {
                    location,
                    shape,
                    form,
                    range,
                })
                .collect(),
        }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The example's text.
    pub fn text(&self, item: &Item) -> &[u8] {
        &self.bytes[item.range.clone()]
    }
}

/// The examples of one split in their final order, readable a batch at a time from
/// any thread (the writers' rendering threads read the batches they render).
pub trait ExampleStream: Sync {
    /// How many examples the split has.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The examples at `range` of the split's order.
    fn read(&self, range: Range<usize>) -> anyhow::Result<Batch>;
    /// Where the batch that starts at `start` ends: after `BATCH` examples, or sooner so
    /// that a batch of long examples stays near `batch_bytes(threads)` (always one
    /// example at least).
    fn batch_end(&self, start: usize) -> usize {
        (start + BATCH).min(self.len())
    }
    /// Where examples written are counted (the progress bar shows written examples).
    fn progress(&self) -> &Progress;
    /// The bytes of input text of the examples at `range`, known without reading them
    /// (the parquet format sizes its shards and row groups from it).
    fn text_bytes(&self, range: Range<usize>) -> u64;
}

/// The examples at `range` of another stream, as a stream of their own (a shard).
pub struct Slice<'a> {
    inner: &'a dyn ExampleStream,
    start: usize,
    len: usize,
}

impl<'a> Slice<'a> {
    pub fn new(inner: &'a dyn ExampleStream, range: Range<usize>) -> Slice<'a> {
        assert!(range.end <= inner.len(), "a slice lies inside its stream");
        Slice {
            inner,
            start: range.start,
            len: range.len(),
        }
    }

    fn outer(&self, range: Range<usize>) -> Range<usize> {
        self.start + range.start..self.start + range.end
    }
}

impl ExampleStream for Slice<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn read(&self, range: Range<usize>) -> anyhow::Result<Batch> {
        self.inner.read(self.outer(range))
    }

    fn batch_end(&self, start: usize) -> usize {
        let end = self.inner.batch_end(self.start + start) - self.start;
        end.min(self.len)
    }

    fn progress(&self) -> &Progress {
        self.inner.progress()
    }

    fn text_bytes(&self, range: Range<usize>) -> u64 {
        self.inner.text_bytes(self.outer(range))
    }
}

/// Examples per batch: read and rendered by one thread, written in one go.
pub const BATCH: usize = 1024;
/// The text a batch may hold (more only when one example is longer): 4 MiB, less with
/// many threads, so the batches in flight (one per thread and two more) stay near
/// 16 MiB of input text.
pub fn batch_bytes(threads: usize) -> usize {
    ((16 << 20) / (threads.max(1) + 2)).clamp(256 << 10, 4 << 20)
}

/// The selected examples of a split, re-read from the input a batch at a time (the file
/// is read at positions, so threads reading batches do not contend).
pub struct SpanStream<'a> {
    source: &'a Inputs,
    entries: &'a [Entry],
    ids: &'a [u32],
    progress: &'a Progress,
    batch_bytes: usize,
}

impl<'a> SpanStream<'a> {
    pub fn new(
        source: &'a Inputs,
        entries: &'a [Entry],
        ids: &'a [u32],
        progress: &'a Progress,
        threads: usize,
    ) -> SpanStream<'a> {
        SpanStream {
            source,
            entries,
            ids,
            progress,
            batch_bytes: batch_bytes(threads),
        }
    }
}

impl ExampleStream for SpanStream<'_> {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn read(&self, range: Range<usize>) -> anyhow::Result<Batch> {
        let entries: Vec<&Entry> = self.ids[range]
            .iter()
            .map(|&id| &self.entries[id as usize])
            .collect();
        let total: usize = entries.iter().map(|e| e.span().len as usize).sum();
        let mut bytes = vec![0u8; total];
        let mut items = Vec::with_capacity(entries.len());
        let mut rest: &mut [u8] = &mut bytes;
        let mut at = 0;
        for e in entries {
            let span = e.span();
            let len = span.len as usize;
            let (this, tail) = rest.split_at_mut(len);
            self.source.read_span(span, this)?;
            rest = tail;
            items.push((e.location(self.source), Some(e.shape), e.form, at..at + len));
            at += len;
        }
        Ok(Batch::from_parts(bytes, items))
    }

    fn batch_end(&self, start: usize) -> usize {
        let mut bytes = 0;
        let mut end = start;
        for &id in self.ids[start..].iter().take(BATCH) {
            bytes += self.entries[id as usize].span().len as usize;
            if bytes > self.batch_bytes && end > start {
                break;
            }
            end += 1;
        }
        end
    }

    fn progress(&self) -> &Progress {
        self.progress
    }

    fn text_bytes(&self, range: Range<usize>) -> u64 {
        self.ids[range]
            .iter()
            .map(|&id| self.entries[id as usize].span().len as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Origin, Span};
    use crate::scan::test_entries as entries;

    #[test]
    fn writer_batches_are_bounded_by_bytes_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"state\":{},\"action\":{},\"reward\":1}\n").unwrap();
        let source = Inputs::open(&[path.to_str().unwrap().to_string()], dir.path()).unwrap();
        // 3 MiB examples: one fits a batch, two go over, one alone may go over.
        let big = |i: u64, len: u32| {
            let span = Span {
                offset: i * len as u64,
                len,
                line: i as u32 + 1,
            };
            Entry::new(span, i as u32, 0, Origin::Line, Form::default()).unwrap()
        };
        let large: Vec<Entry> = (0..5)
            .map(|i| big(i, 3 << 20))
            .chain([big(5, 9 << 20)])
            .collect();
        let ids: Vec<u32> = (0..6).collect();
        let progress = Progress::hidden();
        let stream = SpanStream::new(&source, &large, &ids, &progress, 2);
        let ends: Vec<usize> = std::iter::successors(Some(stream.batch_end(0)), |&e| {
            (e < ids.len()).then(|| stream.batch_end(e))
        })
        .collect();
        assert_eq!(ends, [1, 2, 3, 4, 5, 6]);
        let small = entries(&[Origin::Line; 3000]);
        let ids: Vec<u32> = (0..3000).collect();
        let stream = SpanStream::new(&source, &small, &ids, &progress, 2);
        assert_eq!(stream.batch_end(0), BATCH);
        assert_eq!(stream.batch_end(2048), 3000);
    }
}
