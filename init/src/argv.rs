//! A command's words in a fixed buffer, each NUL-terminated, ready for `execve`.
//!
//! init has no heap: the command and the shell from the kernel command line
//! are built here, byte by byte, by the command line parser.

use crate::cstr::CStr;

/// Room for the words' bytes and NULs: `/proc/cmdline` has at most 4096 bytes,
/// and its words with their NULs never take more than the text they come from
/// and one byte.
pub const ARGV_BYTES: usize = 4100;
/// The most words a command may have.
pub const ARGV_WORDS: usize = 256;

/// A command: its words, in order.
#[derive(Clone)]
pub struct Argv {
    bytes: [u8; ARGV_BYTES],
    /// Bytes used, NULs included.
    used: usize,
    /// Where each finished word starts in `bytes`.
    starts: [u16; ARGV_WORDS],
    words: usize,
    /// Where the word being built starts, if one is.
    open: Option<usize>,
    /// A byte of the open word did not fit (or was a NUL): the word is dropped.
    broken: bool,
    /// A word was dropped: the command is incomplete.
    overflow: bool,
}

impl Argv {
    /// No words.
    pub const fn new() -> Argv {
        Argv {
            bytes: [0; ARGV_BYTES],
            used: 0,
            starts: [0; ARGV_WORDS],
            words: 0,
            open: None,
            broken: false,
            overflow: false,
        }
    }

    /// A command of the given words.
    pub fn of(words: &[&[u8]]) -> Argv {
        let mut argv = Argv::new();
        for word in words {
            argv.push_word(word);
        }
        argv
    }

    /// Starts a new word (ending the open one, if any).
    pub fn begin_word(&mut self) {
        self.end_word();
        self.open = Some(self.used);
        self.broken = false;
    }

    /// Appends `byte` to the open word, starting one if none is open.
    pub fn push_byte(&mut self, byte: u8) {
        if self.open.is_none() {
            self.begin_word();
        }
        match self.bytes.get_mut(self.used) {
            // The last byte stays free for the word's NUL.
            Some(slot) if byte != 0 && self.used + 1 < ARGV_BYTES => {
                *slot = byte;
                self.used += 1;
            }
            _ => self.broken = true,
        }
    }

    /// Appends `bytes` to the open word, starting one if none is open.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_byte(b);
        }
    }

    /// Ends the open word, if any.
    pub fn end_word(&mut self) {
        let start = match self.open.take() {
            Some(start) => start,
            None => return,
        };
        let fits = !self.broken && self.words < ARGV_WORDS && self.used < ARGV_BYTES;
        match (
            self.starts.get_mut(self.words),
            self.bytes.get_mut(self.used),
        ) {
            (Some(slot), Some(nul)) if fits => {
                *slot = start as u16;
                *nul = 0;
                self.used += 1;
                self.words += 1;
            }
            _ => {
                // Drop the partial word's bytes, so the rest stays consistent.
                self.used = start;
                self.overflow = true;
            }
        }
    }

    /// Appends a whole word.
    pub fn push_word(&mut self, word: &[u8]) {
        self.begin_word();
        self.push_bytes(word);
        self.end_word();
    }

    /// Whether a word was dropped because it did not fit (or had a NUL).
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// The number of finished words.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.words
    }

    /// Whether there are no finished words.
    pub fn is_empty(&self) -> bool {
        self.words == 0
    }

    /// Word `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<CStr<'_>> {
        if i >= self.words {
            return None;
        }
        let start = usize::from(*self.starts.get(i)?);
        let end = match self.starts.get(i + 1) {
            Some(&next) if i + 1 < self.words => usize::from(next),
            _ => self.finished_len(),
        };
        CStr::from_bytes_with_nul(self.bytes.get(start..end)?)
    }

    /// The first word: the program.
    pub fn program(&self) -> Option<CStr<'_>> {
        self.get(0)
    }

    /// Every word, in order.
    pub fn iter(&self) -> impl Iterator<Item = CStr<'_>> {
        (0..self.words).filter_map(move |i| self.get(i))
    }

    /// The bytes of the finished words (an open word's bytes come after them).
    fn finished_len(&self) -> usize {
        self.open.unwrap_or(self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(argv: &Argv) -> Vec<String> {
        argv.iter()
            .map(|w| String::from_utf8_lossy(w.to_bytes()).into_owned())
            .collect()
    }

    #[test]
    fn words_are_kept_in_order_with_empty_ones() {
        let mut argv = Argv::of(&[b"sh", b"-c", b""]);
        argv.push_byte(b'x');
        argv.push_bytes(b"yz");
        argv.end_word();
        assert_eq!(words(&argv), ["sh", "-c", "", "xyz"]);
        assert_eq!(argv.program().map(|p| p.to_bytes()), Some(&b"sh"[..]));
        assert!(!argv.overflowed());
    }

    #[test]
    fn an_open_word_is_not_a_word_yet() {
        let mut argv = Argv::of(&[b"a"]);
        argv.push_bytes(b"bc");
        assert_eq!(words(&argv), ["a"]);
        assert_eq!(argv.get(1).map(|w| w.to_bytes()), None);
    }

    #[test]
    fn too_many_words_or_bytes_overflow() {
        let mut argv = Argv::new();
        for _ in 0..ARGV_WORDS + 1 {
            argv.push_word(b"w");
        }
        assert_eq!((argv.len(), argv.overflowed()), (ARGV_WORDS, true));
        let mut argv = Argv::new();
        argv.push_word(&[b'x'; ARGV_BYTES]);
        assert_eq!((argv.len(), argv.overflowed()), (0, true));
        argv.push_word(b"after");
        assert_eq!(words(&argv), ["after"]);
    }

    #[test]
    fn a_nul_cannot_be_part_of_a_word() {
        let argv = Argv::of(&[b"a\0b", b"c"]);
        assert!(argv.overflowed());
        assert_eq!(words(&argv), ["c"]);
    }
}
