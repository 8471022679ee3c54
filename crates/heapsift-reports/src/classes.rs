//! Naming objects by class: a record's `class` field is the address of its
//! class, whose own CLASS record carries the name.

use std::collections::HashMap;

use heapsift_parse::{Record, parse_address};

/// The names of the classes a dump defines, collected while reading.
#[derive(Debug, Default)]
pub struct ClassNames {
    names: Vec<(u64, Box<[u8]>)>,
}

impl ClassNames {
    /// Notes the record's name if it is a named class.
    pub fn note(&mut self, record: &Record<'_>) {
        if record.kind == b"CLASS"
            && let (Some(address), Some(name)) = (record.address_value(), record.name_bytes())
        {
            self.names.push((address, name.into()));
        }
    }

    /// Adds the names another reading thread collected.
    pub fn absorb(&mut self, other: ClassNames) {
        self.names.extend(other.names);
    }

    /// A lookup from `class` field text to name.
    pub fn index(&self) -> ClassIndex<'_> {
        let mut by_address = HashMap::with_capacity(self.names.len());
        for (address, name) in &self.names {
            by_address.entry(*address).or_insert(&name[..]);
        }
        ClassIndex { by_address }
    }
}

/// Class names by address, borrowed from a [`ClassNames`].
#[derive(Debug)]
pub struct ClassIndex<'a> {
    by_address: HashMap<u64, &'a [u8]>,
}

impl<'a> ClassIndex<'a> {
    /// The name of the class whose address is `class` (as a record writes
    /// it); `None` for an unknown or anonymous class.
    pub fn name(&self, class: &[u8]) -> Option<&'a [u8]> {
        parse_address(class).and_then(|address| self.name_at(address))
    }

    /// The name of the class at `address`; `None` for an unknown or
    /// anonymous class.
    pub fn name_at(&self, address: u64) -> Option<&'a [u8]> {
        self.by_address.get(&address).copied()
    }
}
