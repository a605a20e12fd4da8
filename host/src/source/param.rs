//! What a source URI's query parameters may be, and why one was refused: the check every
//! kind of source (serial, LLRP, replay) runs before it opens anything, so a typo stops
//! start-up with the parameter named instead of being ignored or retried forever.
use std::path::PathBuf;

use crate::capture::SpeedError;
use crate::source::SourceUri;

/// Why a source URI's parameters, or a file one names, were refused.
#[derive(Debug, thiserror::Error)]
pub enum ParamError {
    /// A parameter this kind of source does not read (a misspelt `buad=` would otherwise
    /// be silently ignored).
    #[error("unknown parameter {key:?}; expected one of {}", .known.join(", "))]
    Unknown {
        /// The parameter as written.
        key: String,
        /// The parameters this kind of source reads.
        known: &'static [&'static str],
    },
    /// A value that does not parse or is out of range.
    #[error("{key}={text:?} is not {expected}")]
    Invalid {
        /// The parameter.
        key: &'static str,
        /// Its value as written.
        text: String,
        /// What it should be, in words.
        expected: String,
    },
    /// A parameter that needs another one given with it.
    #[error("{given}= needs {needed}")]
    Unpaired {
        /// The parameter given.
        given: &'static str,
        /// The one missing, with what it names.
        needed: &'static str,
    },
    /// A parameter given with an empty value where a path is needed.
    #[error("{key}= is empty; expected {expected}")]
    Empty {
        /// The parameter.
        key: &'static str,
        /// What it should name.
        expected: &'static str,
    },
    /// The radar `.cfg` a `cfg=` names cannot be read.
    #[error("cannot read radar config {}", .path.display())]
    UnreadableCfg {
        /// The file as named.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The replay speed is out of range.
    #[error(transparent)]
    Speed(#[from] SpeedError),
    /// The URI's target is not what its scheme reads (e.g. no `HOST:PORT` for LLRP).
    #[error("expected {0}")]
    Target(&'static str),
}

impl SourceUri {
    /// Refuses the first parameter not in `known`.
    pub fn check_params(&self, known: &'static [&'static str]) -> Result<(), ParamError> {
        match self
            .params
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((key, _)) => Err(ParamError::Unknown {
                key: key.clone(),
                known,
            }),
            None => Ok(()),
        }
    }

    /// Parameter `key` as a whole number of at least `min`, or `default` when absent.
    pub fn number_param(
        &self,
        key: &'static str,
        default: u32,
        min: u32,
        expected: impl FnOnce() -> String,
    ) -> Result<u32, ParamError> {
        let Some(text) = self.param(key) else {
            return Ok(default);
        };
        match text.parse::<u32>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(ParamError::Invalid {
                key,
                text: text.to_string(),
                expected: expected(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> SourceUri {
        SourceUri::parse(text).unwrap()
    }

    #[test]
    fn an_unknown_parameter_is_named_with_the_known_ones() {
        let e = uri("node:///dev/x?name=a&buad=9600")
            .check_params(&["name", "baud"])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown parameter \"buad\"; expected one of name, baud"
        );
        assert!(uri("node:///dev/x?name=a").check_params(&["name"]).is_ok());
    }

    #[test]
    fn numbers_default_when_absent_and_are_bounded_when_given() {
        let expected = || "a whole number >= 10".to_string();
        let u = uri("llrp://h:1?keepalive_ms=5");
        assert_eq!(u.number_param("retry_ms", 100, 1, expected).unwrap(), 100);
        let e = u
            .number_param("keepalive_ms", 1000, 10, expected)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "keepalive_ms=\"5\" is not a whole number >= 10"
        );
        let u = uri("llrp://h:1?keepalive_ms=-1");
        assert!(u.number_param("keepalive_ms", 1000, 10, expected).is_err());
    }
}
