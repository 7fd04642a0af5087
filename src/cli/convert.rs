//! `credence convert`: any readable network format to any writable one.

use super::load_network;
use anyhow::{Context, Result, bail};
use clap::Args;
use credence::io::Format;
use std::path::PathBuf;
use std::process::ExitCode;

/// `credence convert IN OUT [--to FORMAT]`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The network to read: BIF, XMLBIF, Hugin NET, GeNIe XDSL or UAI, chosen by the extension
    /// (.bif, .xml, .xmlbif, .net, .xdsl, .uai) or else by the content.
    input: PathBuf,

    /// The file to write ('-' for standard output).
    output: PathBuf,

    /// The format to write: bif, xmlbif, net, xdsl or uai (which keeps no names) [default: from
    /// OUT's extension].
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    to: Option<Format>,
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format '{text}' (valid: {})", names.join(", "))
    })
}

pub fn run(args: ConvertArgs) -> Result<ExitCode> {
    let format = match args.to {
        Some(format) => format,
        None => match args
            .output
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_name)
        {
            Some(format) => format,
            None => bail!(
                "cannot tell the format to write from '{}': give --to bif, xmlbif, net, xdsl or uai",
                args.output.display()
            ),
        },
    };
    let network = load_network(&args.input)?;
    let text = format.write(&network)?;
    if args.output.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(&args.output, text)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
