//! Recognising a line's keys by predicting them.
//!
//! Ruby writes the keys of a record in a fixed order that depends on the
//! record's type, so the key that followed `class` in the last STRING record
//! almost always follows it in the next one. [`KeyPredictor`] remembers, per
//! type and previous key, which key came next, and checks the guess with one
//! 16-byte comparison of the literal `, "key":` that Ruby writes after a
//! value (or `{"key":` opening the line). Only a wrong guess pays for finding
//! the separator and the key's end, and looking the key up.

/// What the parser does with a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Type,
    Address,
    Class,
    Generation,
    Memsize,
    Line,
    References,
    Value,
    Root,
    /// `file`, never escaped by Ruby.
    File,
    /// `name`, raw before Ruby 3.3.7.
    Name,
    /// `bytesize` (STRING, SYMBOL), `length` (ARRAY) or `size` (HASH).
    Length,
    /// `struct`, the name of a DATA object's C type; may be raw.
    Struct,
    /// `imemo_type`, the kind of an IMEMO record.
    ImemoType,
    /// `singleton`, true for singleton classes.
    Singleton,
    /// `superclass` of a CLASS.
    Superclass,
    /// Other fields Ruby may write raw: `method`, `real_class_name`.
    RawText,
    Flags,
    /// Any other field: checked and skipped.
    Other,
}

macro_rules! known_keys {
    ($($name:literal => $field:ident),* $(,)?) => {
        /// Every key Ruby writes (dump-format.md), in its order.
        const KEYS: &[(&[u8], Field)] = &[$(($name, Field::$field)),*];

        /// The index in [`KEYS`] of a key's name.
        fn key_index(key: &[u8]) -> Option<usize> {
            match key {
                $($name => Some(const { index_of($name) }),)*
                _ => None,
            }
        }
    };
}

known_keys! {
    b"address" => Address, b"type" => Type, b"shape_id" => Other, b"slot_size" => Other,
    b"class" => Class, b"frozen" => Other, b"embedded" => Other, b"fstring" => Other,
    b"chilled" => Other, b"associated" => Other, b"shared" => Other, b"bytesize" => Length,
    b"capacity" => Other, b"value" => Value, b"encoding" => Other, b"coderange" => Other,
    b"broken" => Other, b"length" => Length, b"size" => Length, b"default" => Other,
    b"ivars" => Other, b"too_complex_shape" => Other, b"complex_shape" => Other,
    b"variation_count" => Other, b"superclass" => Superclass, b"name" => Name,
    b"real_class_name" => RawText, b"singleton" => Singleton, b"struct" => Struct,
    b"free_immediately" => Other, b"fd" => Other, b"imemo_type" => ImemoType, b"mid" => Other,
    b"called_id" => Other, b"receiver_class" => Other, b"node_type" => Other,
    b"references" => References, b"file" => File, b"line" => Line, b"method" => RawText,
    b"generation" => Generation, b"memsize" => Memsize, b"flags" => Flags, b"root" => Root,
    b"id" => Other, b"parent_id" => Other, b"depth" => Other, b"shape_type" => Other,
    b"edge_name" => Other, b"edges" => Other,
}

/// Whether Ruby may write the value of `key` raw (unescaped): `Some(true)`
/// for `file`, `name`, `struct`, `method` and `real_class_name`,
/// `Some(false)` for its other keys, `None` for a key Ruby never writes.
pub(crate) fn is_raw_key(key: &[u8]) -> Option<bool> {
    let field = KEYS[key_index(key)?].1;
    Some(matches!(
        field,
        Field::File | Field::Name | Field::Struct | Field::RawText
    ))
}

/// The position of `name` in [`KEYS`], computed at compile time.
const fn index_of(name: &[u8]) -> usize {
    let mut i = 0;
    while i < KEYS.len() {
        let key = KEYS[i].0;
        if key.len() == name.len() {
            let mut j = 0;
            while j < key.len() && key[j] == name[j] {
                j += 1;
            }
            if j == key.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("key missing from KEYS")
}

const KEY_COUNT: usize = KEYS.len();
/// The "previous key" of a line's first key.
pub(crate) const START: usize = KEY_COUNT;
/// The "previous key" after a key that is not in [`KEYS`].
const UNKNOWN: usize = KEY_COUNT + 1;
/// Records are told apart by a small hash of their type.
const TYPE_SLOTS: usize = 16;

/// A predicted key: its literal `, "key":` (zero-padded to 16 bytes) with the
/// mask of its bytes, the literal's length (0: no prediction) and the key's
/// index in [`KEYS`].
/// Kept whole in the prediction table, so checking a guess takes one load.
#[derive(Clone, Copy)]
struct Guess {
    literal: u128,
    mask: u128,
    len: u8,
    index: u8,
    field: Field,
}

const NO_GUESS: Guess = Guess {
    literal: 0,
    mask: 0,
    len: 0,
    index: 0,
    field: Field::Other,
};

/// Predicts each key of a line from the previous line of the same type.
pub(crate) struct KeyPredictor {
    next: [[Guess; KEY_COUNT + 2]; TYPE_SLOTS],
    /// The guess for each known key after a value, `, "key":`; `NO_GUESS`
    /// for keys whose literal is longer than 16 bytes.
    guesses: [Guess; KEY_COUNT],
    /// The guess for each known key opening a line, `{"key":`.
    openers: [Guess; KEY_COUNT],
}

/// The key found at a position: what to do with its value, and the slot to
/// predict the next key from.
pub(crate) struct Found {
    pub field: Field,
    pub slot: usize,
}

impl Found {
    /// Whether Ruby writes this key.
    pub fn is_known(&self) -> bool {
        self.slot < KEY_COUNT
    }
}

impl Default for KeyPredictor {
    fn default() -> Self {
        KeyPredictor {
            next: [[NO_GUESS; KEY_COUNT + 2]; TYPE_SLOTS],
            guesses: literals(b", \""),
            openers: literals(b"{\""),
        }
    }
}

/// The guess for every known key written as `<before>key":`.
fn literals(before: &[u8]) -> [Guess; KEY_COUNT] {
    let mut guesses = [NO_GUESS; KEY_COUNT];
    for (index, (guess, &(name, field))) in guesses.iter_mut().zip(KEYS).enumerate() {
        let text = [before, name, b"\":"].concat();
        if text.len() <= 16 {
            let mut padded = [0u8; 16];
            padded[..text.len()].copy_from_slice(&text);
            *guess = Guess {
                literal: u128::from_le_bytes(padded),
                mask: u128::MAX >> (8 * (16 - text.len())),
                len: text.len() as u8,
                index: index as u8,
                field,
            };
        }
    }
    guesses
}

impl KeyPredictor {
    /// The slot of a record type, for predictions per type.
    pub fn type_slot(kind: &[u8]) -> usize {
        (kind.len() + usize::from(kind.first().copied().unwrap_or(0))) % TYPE_SLOTS
    }

    /// If the bytes at `pos`, just after a value, are `, "key":` for the key
    /// that followed `previous` last time in records of this type, returns
    /// that key and the length of the literal.
    #[inline(always)]
    pub fn guess(
        &self,
        bytes: &[u8],
        pos: usize,
        type_slot: usize,
        previous: usize,
    ) -> Option<(Found, usize)> {
        let guess = self.next[type_slot][previous];
        let window = bytes.get(pos..pos + 16)?;
        let word = u128::from_le_bytes(window.try_into().expect("sixteen bytes"));
        if guess.len == 0 || (word ^ guess.literal) & guess.mask != 0 {
            return None;
        }
        Some((
            Found {
                field: guess.field,
                slot: usize::from(guess.index),
            },
            usize::from(guess.len),
        ))
    }

    /// Looks a key up by name, and remembers it as the successor of
    /// `previous` for records of this type.
    pub fn learn(&mut self, key: &[u8], type_slot: usize, previous: usize) -> Found {
        let index = key_index(key);
        let known = if previous == START {
            &self.openers
        } else {
            &self.guesses
        };
        self.next[type_slot][previous] = index.map_or(NO_GUESS, |i| known[i]);
        Found {
            field: index.map_or(Field::Other, |i| KEYS[i].1),
            slot: index.unwrap_or(UNKNOWN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_the_key_that_follows_and_checks_its_literal() {
        let mut predictor = KeyPredictor::default();
        let rest = br#", "class":"0x1", "value":"a", "file":"x.rb"}"#;
        let slot = KeyPredictor::type_slot(b"STRING");
        let type_key = key_index(b"type").unwrap();
        assert!(predictor.guess(rest, 0, slot, type_key).is_none());
        let found = predictor.learn(b"class", slot, type_key);
        assert_eq!(found.field, Field::Class);
        let (guessed, len) = predictor.guess(rest, 0, slot, type_key).expect("learned");
        assert_eq!((guessed.field, len), (Field::Class, 10));
        // Only that key, written Ruby's way, is taken for the guess.
        for other in [
            &br#", "clas":"x", "padding padding"#[..],
            br#", "classes":"x", "padding"#,
            br#",  "class":"x", "padding"#,
        ] {
            assert!(predictor.guess(other, 0, slot, type_key).is_none());
        }
        // Other types and other previous keys have guesses of their own.
        assert!(
            predictor
                .guess(rest, 0, KeyPredictor::type_slot(b"HASH"), type_key)
                .is_none()
        );
        assert!(predictor.guess(rest, 0, slot, START).is_none());
    }

    #[test]
    fn the_first_key_is_guessed_with_the_opening_brace() {
        let mut predictor = KeyPredictor::default();
        let line = br#"{"address":"0x1", "type":"STRING"}"#;
        predictor.learn(b"address", 0, START);
        let (found, len) = predictor.guess(line, 0, 0, START).expect("learned");
        assert_eq!((found.field, len), (Field::Address, 11));
        assert!(
            predictor
                .guess(br#"{ "address":"0x1", "type":"STRING"}"#, 0, 0, START)
                .is_none()
        );
    }

    #[test]
    fn every_key_is_found_by_name() {
        for (i, (name, field)) in KEYS.iter().enumerate() {
            assert_eq!(key_index(name), Some(i));
            let found = KeyPredictor::default().learn(name, 0, START);
            assert_eq!(found.field, *field);
        }
        assert_eq!(key_index(b"unknown_key"), None);
    }
}
