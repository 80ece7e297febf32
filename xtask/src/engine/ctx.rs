//! What every command and stage is given: the global flags, and the board they name.

use anyhow::Result;
use std::sync::OnceLock;

use crate::board::{Board, DEFAULT_BOARD};

/// The global flags, and the board they name, loaded on first use: a command that needs
/// no board (`boards`, `kconfig merge`) never reads one.
#[derive(Debug)]
pub struct Ctx {
    board_arg: Option<String>,
    board: OnceLock<Board>,
    /// Stream tool output to the terminal as well as to the log.
    pub verbose: bool,
}

impl Ctx {
    /// From `--board` (`None`: not given) and `-v`.
    pub fn new(board_arg: Option<String>, verbose: bool) -> Ctx {
        Ctx {
            board_arg,
            board: OnceLock::new(),
            verbose,
        }
    }

    /// For a board already loaded (the test suite's other boards).
    pub fn for_board(board: Board, verbose: bool) -> Ctx {
        Ctx {
            board_arg: Some(board.name.clone()),
            board: OnceLock::from(board),
            verbose,
        }
    }

    /// The board `--board` names, else [`DEFAULT_BOARD`], loaded on first use.
    pub fn board(&self) -> Result<&Board> {
        if let Some(board) = self.board.get() {
            return Ok(board);
        }
        let loaded = Board::load(self.board_arg.as_deref().unwrap_or(DEFAULT_BOARD))?;
        Ok(self.board.get_or_init(|| loaded))
    }

    /// Whether `--board` (or `MINILINUX_BOARD`) named a board.
    pub fn board_given(&self) -> bool {
        self.board_arg.is_some()
    }
}
