//! How an error is said: its message and its causes in one line, as `dagr` prints them on
//! standard error and the HTTP control endpoints return them.

use std::error::Error;

/// An error and its causes, `: `-separated, each said once (a cause whose text already
/// ends the line is not repeated).
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Said(&'static str, #[source] Option<Box<Said>>);

    #[test]
    fn causes_follow_the_message_and_a_repeated_one_is_said_once() {
        let io = Said("disk full", None);
        let write = Said("writing x.mcap", Some(Box::new(io)));
        assert_eq!(chain(&write), "writing x.mcap: disk full");
        let echo = Said(
            "writing x.mcap: disk full",
            Some(Box::new(Said("disk full", None))),
        );
        assert_eq!(chain(&echo), "writing x.mcap: disk full");
    }
}
