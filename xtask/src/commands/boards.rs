//! `cargo xtask boards`: each board, whether this host has its tools, and its description.

use anyhow::Result;
use std::process::ExitCode;

use crate::board::Board;
use crate::engine::{render_error, Ctx};
use crate::host::setup;

/// `cargo xtask boards` takes no options (every board is listed, whatever `--board` says).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BoardsArgs {}

/// `cargo xtask boards`: each board, whether this host has its tools, and its description.
/// A board whose `board.toml` does not load is listed as broken with the error, the others
/// still listed, and the command fails at the end.
pub fn run(_ctx: &Ctx, _args: BoardsArgs) -> Result<ExitCode> {
    let mut broken = Vec::new();
    for name in Board::names()? {
        match Board::load(&name) {
            Ok(board) => {
                let missing = setup::missing_tools(&board);
                print!(
                    "{}",
                    board_line(&name, &board.spec.description, missing.as_deref())
                );
            }
            Err(err) => {
                print!("{}", broken_line(&name, &render_error(&err)));
                broken.push(name);
            }
        }
    }
    if broken.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: {} board(s) cannot be read: {}; fix the board.toml errors shown above",
        broken.len(),
        broken.join(", ")
    );
    Ok(ExitCode::FAILURE)
}

/// A board whose `board.toml` does not load: name, `broken`, and the error.
fn broken_line(name: &str, error: &str) -> String {
    format!("{name:<14} broken   {error}\n")
}

/// One board in `cargo xtask boards`: name, `ready` or `missing`, description, and
/// for a missing one a second line with what is missing and the fix.
fn board_line(name: &str, description: &str, missing: Option<&str>) -> String {
    match missing {
        None => format!("{name:<14} ready    {description}\n"),
        Some(what) => format!(
            "{name:<14} missing  {description}\n{:<14}          {what}: run `cargo xtask setup --board {name}`\n",
            ""
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{board_line, broken_line};
    use expect_test::expect;

    #[test]
    fn boards_lists_status_then_description_and_the_fix_when_missing() {
        let text = board_line("versatilepb", "ARM Versatile PB", None)
            + &board_line(
                "x86_64",
                "x86_64 QEMU microvm",
                Some("qemu-system-x86_64 not found (package qemu-system-x86)"),
            )
            + &broken_line(
                "mine",
                "boards/mine/board.toml:37: unknown compression `brotli`; expected one of gzip, zstd, xz, lz4, none",
            );
        expect![[r#"
            versatilepb    ready    ARM Versatile PB
            x86_64         missing  x86_64 QEMU microvm
                                    qemu-system-x86_64 not found (package qemu-system-x86): run `cargo xtask setup --board x86_64`
            mine           broken   boards/mine/board.toml:37: unknown compression `brotli`; expected one of gzip, zstd, xz, lz4, none
        "#]]
        .assert_eq(&text);
    }
}
