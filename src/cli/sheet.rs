//! `mieruka sheet`: a GX product requirement sheet (要件シート).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use mieruka::score;

use super::{DataArg, ProfileArg, scored_session};

/// Write a GX product requirement sheet (要件シート) like the consortium's 表3-2-1.
///
/// A group header row, the weight row (重み付け), one row per product with ○ / × / –
/// (△ and the credit where a linear rule gives part of it), the GX score, and notes
/// defining every indicator. HTML is printable and self-contained; CSV opens in Excel;
/// xlsx is an Excel workbook laid out like 表3-2-1 (merged group headers, the rule of
/// each indicator as a cell note) with a second sheet of the numbers behind every mark.
///
/// Examples:
///   mieruka sheet --lang ja --format html -o sheet.html
///   mieruka sheet --lang ja --format xlsx -o 要件シート.xlsx
///   mieruka sheet --lang en --format md --category 4526
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct SheetArgs {
    #[command(flatten)]
    profile: ProfileArg,
    /// Only products whose UN CPC code starts with this.
    #[arg(long, value_name = "CPC")]
    category: Option<String>,
    /// Language of every label.
    #[arg(long, value_enum, default_value = "ja")]
    lang: LangArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    format: SheetFormatArg,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `mieruka sheet`; the exit code.
pub async fn run(args: SheetArgs) -> anyhow::Result<u8> {
    let SheetArgs {
        profile,
        category,
        lang,
        format,
        output,
        data,
    } = args;
    let session = scored_session(&data, &profile).await?;
    let (inputs, scores) = mieruka::report::score::scored(&session, category.as_deref())?;
    let lang = match lang {
        LangArg::Ja => score::sheet::Lang::Ja,
        LangArg::En => score::sheet::Lang::En,
    };
    let sheet = score::sheet::Sheet::new(&scores, &inputs, lang);
    let format = match format {
        SheetFormatArg::Html => score::sheet::SheetFormat::Html,
        SheetFormatArg::Csv => score::sheet::SheetFormat::Csv,
        SheetFormatArg::Json => score::sheet::SheetFormat::Json,
        SheetFormatArg::Md => score::sheet::SheetFormat::Markdown,
        SheetFormatArg::Xlsx => {
            use std::io::{IsTerminal, Write};
            let bytes = sheet.xlsx()?;
            match output {
                Some(path) => {
                    mieruka::store::write_atomic(&path, &bytes)?;
                    eprintln!("wrote {} ({} products)", path.display(), inputs.len());
                }
                None if std::io::stdout().is_terminal() => anyhow::bail!(
                    "an xlsx workbook is binary: write it to a file with -o FILE.xlsx (or redirect the output)"
                ),
                None => std::io::stdout().lock().write_all(&bytes)?,
            }
            return Ok(0);
        }
    };
    let text = sheet.render(format);
    match output {
        Some(path) => {
            mieruka::store::write_atomic(&path, text.as_bytes())?;
            eprintln!("wrote {} ({} products)", path.display(), inputs.len());
        }
        None => out!("{text}"),
    }
    Ok(0)
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Ja,
    En,
}

#[derive(Clone, Copy, ValueEnum)]
enum SheetFormatArg {
    Html,
    Csv,
    Json,
    Md,
    /// An Excel workbook (.xlsx).
    Xlsx,
}
