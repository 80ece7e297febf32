//! Parsing never panics, and whatever parses prints back byte-identical; an edit of what
//! parsed still parses to the same config.

#![no_main]

use kconfig::{Config, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut config) = Config::parse(text) else {
        return;
    };
    assert_eq!(config.to_string(), text);
    let first_line = text.lines().next().unwrap_or("").to_string();
    if config.set("FUZZ", Value::Str(first_line)).is_ok() {
        let printed = config.to_string();
        assert_eq!(Config::parse(&printed).as_ref(), Ok(&config));
    }
});
