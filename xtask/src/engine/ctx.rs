//! What every command and stage is given.

use crate::board::Board;

/// Options every stage sees.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The board being built.
    pub board: Board,
    /// Stream tool output to the terminal as well as to the log.
    pub verbose: bool,
}
