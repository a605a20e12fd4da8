//! Which RFID tag fills which rows of the RFID tensor: a deployment setting (the gateway
//! config's tag list), not part of a model's [`PreprocessSpec`](super::PreprocessSpec).
//!
//! With no list, tags take rows in EPC byte order among the tags read in the window (what
//! the reference model was trained with): a tag missing from a window moves the tags after
//! it up a row. A list fixes each tag's row for good: the `i`-th listed EPC always fills
//! rows `2i` and `2i + 1`, a listed tag that was not read leaves its rows zero and shifts no
//! other, and a tag that is not listed is not used (and is counted as unused).
use std::collections::HashMap;

use super::RFID_TAGS;

/// How tags are assigned to the RFID tensor's rows (see the [module doc](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagOrder {
    /// Row of each listed EPC; `None` for EPC order.
    rows: Option<HashMap<Vec<u8>, usize>>,
}

/// A tag list that cannot be used: says which entry and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagOrderError {
    /// More tags than the tensor has rows for.
    #[error("tag list has {count} tags: expected at most {RFID_TAGS} (the RFID tensor's tags)")]
    TooMany {
        /// Tags in the list.
        count: usize,
    },
    /// The same EPC twice.
    #[error("tag list entry {index} ({epc}): expected each EPC once, it is also entry {first}")]
    Repeated {
        /// Position of the repeat (0-based).
        index: usize,
        /// Position of the first occurrence (0-based).
        first: usize,
        /// The EPC, hex.
        epc: String,
    },
    /// An entry that is not an EPC in hex.
    #[error("tag list entry {index} ({text:?}): expected an EPC as an even number of hex digits")]
    NotHex {
        /// Position of the entry (0-based).
        index: usize,
        /// The entry as given.
        text: String,
    },
}

impl TagOrder {
    /// EPC byte order among the tags read in each window.
    pub fn epc() -> TagOrder {
        TagOrder::default()
    }

    /// Rows fixed by `epcs`: the `i`-th EPC fills rows `2i`, `2i + 1`.
    pub fn listed<E: AsRef<[u8]>>(epcs: &[E]) -> Result<TagOrder, TagOrderError> {
        if epcs.len() > RFID_TAGS {
            return Err(TagOrderError::TooMany { count: epcs.len() });
        }
        let mut rows: HashMap<Vec<u8>, usize> = HashMap::with_capacity(epcs.len());
        for (index, epc) in epcs.iter().enumerate() {
            let epc = epc.as_ref();
            if let Some(&first) = rows.get(epc) {
                let epc = epc.iter().map(|b| format!("{b:02x}")).collect();
                return Err(TagOrderError::Repeated { index, first, epc });
            }
            rows.insert(epc.to_vec(), index);
        }
        Ok(TagOrder { rows: Some(rows) })
    }

    /// Rows fixed by EPCs written in hex (either case, as `dagr decode` prints them).
    pub fn from_hex<S: AsRef<str>>(epcs: &[S]) -> Result<TagOrder, TagOrderError> {
        let bytes = epcs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                parse_hex(text.as_ref()).ok_or_else(|| TagOrderError::NotHex {
                    index,
                    text: text.as_ref().to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        TagOrder::listed(&bytes)
    }

    /// True when rows follow a list rather than EPC order.
    pub fn is_listed(&self) -> bool {
        self.rows.is_some()
    }

    /// The listed row of `epc` (`None` when not listed or in EPC order).
    pub fn row_of(&self, epc: &[u8]) -> Option<usize> {
        self.rows.as_ref()?.get(epc).copied()
    }
}

/// Bytes of an even-length hex string; `None` otherwise.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty() || text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_fixes_rows_by_position() {
        let order =
            TagOrder::from_hex(&["E2000017010B016210000001", "3005fb63ac1f3841ec880467"]).unwrap();
        assert!(order.is_listed());
        let second = [
            0x30, 0x05, 0xfb, 0x63, 0xac, 0x1f, 0x38, 0x41, 0xec, 0x88, 0x04, 0x67,
        ];
        assert_eq!(order.row_of(&second), Some(1));
        assert_eq!(order.row_of(&[1, 2, 3]), None);
        assert!(!TagOrder::epc().is_listed());
        assert_eq!(TagOrder::epc().row_of(&second), None);
    }

    #[test]
    fn a_bad_list_names_the_entry_and_what_was_expected() {
        let err = TagOrder::from_hex(&["aabb", "xyz1"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tag list entry 1 (\"xyz1\"): expected an EPC as an even number of hex digits"
        );
        let err = TagOrder::from_hex(&["aabb", "cc", "AABB"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tag list entry 2 (aabb): expected each EPC once, it is also entry 0"
        );
        let many: Vec<[u8; 1]> = (0..24).map(|i| [i]).collect();
        assert_eq!(
            TagOrder::listed(&many).unwrap_err(),
            TagOrderError::TooMany { count: 24 }
        );
        assert!(TagOrder::from_hex(&["abc"]).is_err(), "odd length");
    }
}
