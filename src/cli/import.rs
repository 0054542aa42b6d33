//! `numbering import dids|sender-ids FILE.csv`: reads the file on a
//! blocking thread, a batch of 1000 rows at a time, and streams the batches
//! to `Import…`, at most a few ahead of the answers, so memory stays flat
//! whatever the file's size. Rows the server (or the CSV) refuses go to
//! `FILE.rejected.csv` with their line and reason; rows with an
//! `organization_id` are assigned to it once created.

use super::progress::Progress;
use super::remote::{NewRow, Remote, parse_status};
use super::{Failure, Outcome};
use crate::config::ImportCommand;
use crate::proto::v1::import_row_result::Result as RowResult;
use csv::StringRecord;
use futures::StreamExt;
use std::fs::File;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Rows per message: the most the server takes.
const BATCH: usize = 1000;
/// Bytes of rows per message: under the server's default
/// `--max-message-size` (64 KiB), which bounds what one message costs it.
const BATCH_BYTES: usize = 60_000;
/// Assignments in flight at once.
const ASSIGNING: usize = 16;

/// Where each column of the file is.
#[derive(Debug, Clone, Copy)]
struct Columns {
    value: usize,
    country: usize,
    description: Option<usize>,
    status: Option<usize>,
    organization_id: Option<usize>,
}

impl Columns {
    fn find(headers: &StringRecord, value: &str, path: &Path) -> Result<Self, Failure> {
        let at = |name: &str| headers.iter().position(|header| header.trim() == name);
        match (at(value), at("country")) {
            (Some(value), Some(country)) => Ok(Self {
                value,
                country,
                description: at("description"),
                status: at("status"),
                organization_id: at("organization_id"),
            }),
            _ => Err(Failure::Usage(format!(
                "{}: the header row must name the columns {value} and country",
                path.display()
            ))),
        }
    }
}

/// One line of the file, kept until the server has answered for it.
struct Line {
    number: u64,
    record: StringRecord,
    organization_id: Option<String>,
}

/// What the reader sent in one message, and what it refused itself.
struct Sent {
    lines: Vec<Line>,
    refused: Vec<(Line, String)>,
    /// How far into the file the batch ends, in bytes.
    position: u64,
}

pub async fn run<R: Remote>(command: &ImportCommand) -> Result<Outcome, Failure> {
    let path = &command.file;
    let file = File::open(path).map_err(|e| Failure::Io(format!("{}: {e}", path.display())))?;
    let size = file.metadata()?.len();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers = reader.headers()?.clone();
    let columns = Columns::find(&headers, R::VALUE_COLUMN, path)?;
    let mut rejected = Rejected::new(path, &headers)?;
    let remote = R::new(super::connect(&command.client).await?);
    let token = command.client.token.clone();

    let (batches, to_send) = mpsc::channel(2);
    let (sent, mut answered) = mpsc::channel(4);
    let atomic = command.atomic;
    let reading =
        tokio::task::spawn_blocking(move || read(reader, columns, atomic, &batches, &sent));
    let mut replies = remote
        .import(token.as_deref(), ReceiverStream::new(to_send))
        .await?;

    let mut progress = Progress::new(size, "rows imported");
    let (mut created, mut left_shared) = (0u64, 0u64);
    while let Some(reply) = replies.next().await {
        let results = reply?;
        let Some(Sent {
            lines,
            refused,
            position,
        }) = answered.recv().await
        else {
            return Err(Failure::Io(
                "an answer for a batch that was not sent".into(),
            ));
        };
        if results.len() != lines.len() {
            return Err(Failure::Io(format!(
                "the server answered {} rows of a batch of {}",
                results.len(),
                lines.len()
            )));
        }
        let mut to_assign = Vec::new();
        for (line, result) in lines.into_iter().zip(results) {
            match result.result {
                Some(RowResult::Id(id)) => {
                    created += 1;
                    if let Some(organization) = line.organization_id.clone() {
                        to_assign.push((id, organization, line));
                    }
                }
                Some(RowResult::Error(error)) => {
                    let field = if error.field.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", error.field)
                    };
                    let reason =
                        format!("{} {}{field}: {}", error.code, error.reason, error.message);
                    rejected.write(&line, &reason)?;
                }
                None => rejected.write(&line, "the server gave no result")?,
            }
        }
        for (line, reason) in refused {
            rejected.write(&line, &reason)?;
        }
        let assignments = futures::stream::iter(to_assign)
            .map(|(id, organization, line)| {
                let (remote, token) = (remote.clone(), token.clone());
                async move {
                    let outcome = remote.assign(token.as_deref(), id, organization).await;
                    (outcome, line)
                }
            })
            .buffer_unordered(ASSIGNING);
        let failed: Vec<_> = assignments
            .filter_map(|(outcome, line)| async move { outcome.err().map(|e| (e, line)) })
            .collect()
            .await;
        left_shared += u64::try_from(failed.len()).unwrap_or(0);
        for (status, line) in failed {
            let reason = format!(
                "created, but left shared: the assignment failed: {:?}: {}",
                status.code(),
                status.message()
            );
            rejected.write(&line, &reason)?;
        }
        progress.update(position, size, created, rejected.count);
    }
    match reading.await {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => return Err(failure),
        Err(e) => return Err(Failure::Io(format!("reading the file failed: {e}"))),
    }
    let elapsed = progress.finish();
    let rate = created as f64 / elapsed.as_secs_f64().max(0.001);
    let total = created + rejected.count - left_shared;
    eprintln!(
        "numbering: imported {created} of {total} {} from {} in {:.1} s ({rate:.0} rows/s)",
        R::LABEL,
        path.display(),
        elapsed.as_secs_f64()
    );
    rejected.finish()
}

/// Reads the file into batches: each sent to the server, and its lines to
/// the answer loop. Lines the CSV or a status cannot give a row for are
/// refused here, in the batch they fall in (which may then be empty: the
/// server answers an empty message, so every batch gets its answer).
fn read(
    mut reader: csv::Reader<File>,
    columns: Columns,
    atomic: bool,
    batches: &mpsc::Sender<(Vec<NewRow>, bool)>,
    sent: &mpsc::Sender<Sent>,
) -> Result<(), Failure> {
    let mut batch = Batch::default();
    loop {
        let number = reader.position().line();
        let mut record = StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let field = |at: Option<usize>| {
                    at.and_then(|at| record.get(at))
                        .filter(|text| !text.is_empty())
                        .map(str::to_owned)
                };
                let line = Line {
                    number,
                    organization_id: field(columns.organization_id),
                    record: record.clone(),
                };
                match parse_status(&field(columns.status).unwrap_or_default()) {
                    Ok(status) => {
                        let row = NewRow {
                            value: field(Some(columns.value)).unwrap_or_default(),
                            country: field(Some(columns.country)).unwrap_or_default(),
                            description: field(columns.description),
                            status,
                        };
                        // A row that would make the message too large
                        // starts the next one.
                        if !batch.has_room_for(&row) {
                            let position = reader.position().byte();
                            if !batch.send(batches, sent, atomic, position) {
                                return Ok(());
                            }
                        }
                        batch.push(row, line);
                    }
                    Err(reason) => batch.refused.push((line, reason)),
                }
            }
            Err(error) => {
                let line = Line {
                    number,
                    record,
                    organization_id: None,
                };
                batch
                    .refused
                    .push((line, format!("not a CSV row: {error}")));
            }
        }
        if batch.is_full() && !batch.send(batches, sent, atomic, reader.position().byte()) {
            return Ok(());
        }
    }
    if !batch.is_empty() {
        batch.send(batches, sent, atomic, reader.position().byte());
    }
    Ok(())
}

/// The batch being read: its rows, their lines, the lines refused, and the
/// rows' size.
#[derive(Default)]
struct Batch {
    rows: Vec<NewRow>,
    lines: Vec<Line>,
    refused: Vec<(Line, String)>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, row: NewRow, line: Line) {
        self.bytes += row.encoded_len();
        self.rows.push(row);
        self.lines.push(line);
    }

    fn has_room_for(&self, row: &NewRow) -> bool {
        self.rows.is_empty() || self.bytes + row.encoded_len() <= BATCH_BYTES
    }

    fn is_full(&self) -> bool {
        self.rows.len() + self.refused.len() >= BATCH
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.refused.is_empty()
    }

    /// Sends the batch and starts the next; false once the answer loop is
    /// gone.
    fn send(
        &mut self,
        batches: &mpsc::Sender<(Vec<NewRow>, bool)>,
        sent: &mpsc::Sender<Sent>,
        atomic: bool,
        position: u64,
    ) -> bool {
        let Batch {
            rows,
            lines,
            refused,
            bytes: _,
        } = std::mem::take(self);
        let answered = Sent {
            lines,
            refused,
            position,
        };
        // The lines first: the answer loop waits for them once the reply
        // comes.
        sent.blocking_send(answered).is_ok() && batches.blocking_send((rows, atomic)).is_ok()
    }
}

/// `FILE.rejected.csv`: the file's columns, then the line and the reason.
/// Made on the first rejection; one left from an earlier run is removed.
struct Rejected {
    path: PathBuf,
    headers: StringRecord,
    writer: Option<csv::Writer<File>>,
    count: u64,
}

impl Rejected {
    fn new(input: &Path, headers: &StringRecord) -> Result<Self, Failure> {
        let path = input.with_extension("rejected.csv");
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::Io(format!("{}: {e}", path.display()))),
        }
        Ok(Self {
            path,
            headers: headers.clone(),
            writer: None,
            count: 0,
        })
    }

    fn write(&mut self, line: &Line, reason: &str) -> Result<(), Failure> {
        if self.writer.is_none() {
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_path(&self.path)?;
            let mut headers = self.headers.clone();
            headers.push_field("line");
            headers.push_field("reason");
            writer.write_record(&headers)?;
            self.writer = Some(writer);
        }
        let mut record = line.record.clone();
        // Pad short rows, so that line and reason stay in their columns.
        while record.len() < self.headers.len() {
            record.push_field("");
        }
        record.push_field(&line.number.to_string());
        record.push_field(reason);
        if let Some(writer) = &mut self.writer {
            writer.write_record(&record)?;
        }
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<Outcome, Failure> {
        let Some(mut writer) = self.writer else {
            return Ok(Outcome::Done);
        };
        writer.flush()?;
        eprintln!(
            "numbering: {} rows rejected, each with its reason: {}",
            self.count,
            self.path.display()
        );
        Ok(Outcome::Partial)
    }
}
