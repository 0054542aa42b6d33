//! `numbering export dids|sender-ids [FILE.csv]`: every live item, oldest
//! first, one streamed list, written as it arrives. A file is written
//! under a temporary name and renamed once complete, so a failed export
//! never leaves a partial file under the name asked for.

use super::progress::Progress;
use super::remote::Remote;
use super::{Failure, Outcome};
use crate::config::ExportCommand;
use futures::StreamExt;
use std::io::Write;

pub async fn run<R: Remote>(command: &ExportCommand) -> Result<Outcome, Failure> {
    let remote = R::new(super::connect(&command.client).await?);
    let mut pages = remote.export(command.client.token.as_deref()).await?;
    let partial = command
        .file
        .as_ref()
        .map(|path| path.with_extension("csv.partial"));
    let out: Box<dyn Write> = match &partial {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::Io(format!("{}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(out));
    writer.write_record(R::COLUMNS)?;
    let mut progress = Progress::new(0, "exported");
    let mut written = 0u64;
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(status) => {
                if let Some(path) = &partial {
                    std::fs::remove_file(path).ok();
                }
                return Err(status.into());
            }
        };
        progress.set_total(page.total);
        for row in &page.rows {
            writer.write_record(row)?;
        }
        written += page.rows.len() as u64;
        progress.update(written, page.total, written, 0);
    }
    writer.flush()?;
    drop(writer);
    let elapsed = progress.finish();
    let destination = match (&partial, &command.file) {
        (Some(partial), Some(path)) => {
            std::fs::rename(partial, path)?;
            path.display().to_string()
        }
        _ => "standard output".to_owned(),
    };
    eprintln!(
        "numbering: exported {written} {} to {destination} in {:.1} s",
        R::LABEL,
        elapsed.as_secs_f64()
    );
    Ok(Outcome::Done)
}
