//! The values queries are made of, read from text the same way wherever
//! the text comes from (a command-line argument, a URL).

use std::str::FromStr;

use clap::ValueEnum;
use heapsift_graph::Grouping;
use heapsift_reports::{GenerationSelector, TrendGrouping};

use crate::QueryError;

/// An object address as dumps write it: hex, with or without `0x`.
pub fn parse_address_arg(text: &str) -> Result<u64, String> {
    heapsift_parse::parse_address(text.as_bytes())
        .ok_or_else(|| format!("expected an object address such as 0x7f30cc77e440, not `{text}`"))
}

/// A choice (`--by`) read from text, with the message clap would give
/// about the same value in other words.
pub fn parse_choice<T: ValueEnum>(name: &str, text: &str) -> Result<T, QueryError> {
    T::from_str(text, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        let (last, rest) = names.split_last().expect("a choice has variants");
        QueryError::Invalid(format!(
            "{name} must be {} or {last}, not `{text}`",
            rest.join(", ")
        ))
    })
}

/// A generation as typed: a number, `nil` (objects allocated without a
/// generation, as `0`) or `all`. Kept as typed for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationArg {
    /// What was typed.
    pub text: String,
    /// What it selects.
    pub selector: GenerationSelector,
}

impl FromStr for GenerationArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let selector = match text {
            "all" => GenerationSelector::All,
            // The summary prints the untraced bucket as `nil`.
            "nil" => GenerationSelector::Only(0),
            number => GenerationSelector::Only(number.parse().map_err(|_| {
                format!("expected a generation number, `nil` or `all`, not `{text}`")
            })?),
        };
        Ok(GenerationArg {
            text: text.to_owned(),
            selector,
        })
    }
}

/// What `retained` adds up per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RetainedBy {
    /// One row per object.
    #[default]
    Object,
    /// One row per class.
    Class,
    /// One row per allocation site (file:line).
    Location,
}

impl From<RetainedBy> for Grouping {
    fn from(by: RetainedBy) -> Self {
        match by {
            RetainedBy::Object => Grouping::Object,
            RetainedBy::Class => Grouping::Class,
            RetainedBy::Location => Grouping::Location,
        }
    }
}

/// What `trend` counts per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TrendBy {
    /// One row per type and allocation site (file:line).
    #[default]
    Location,
    /// One row per type and class name.
    Class,
}

impl From<TrendBy> for TrendGrouping {
    fn from(by: TrendBy) -> Self {
        match by {
            TrendBy::Location => TrendGrouping::Location,
            TrendBy::Class => TrendGrouping::Class,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_read_as_the_summary_prints_them() {
        let selector = |text: &str| text.parse::<GenerationArg>().map(|g| g.selector);
        assert_eq!(selector("36"), Ok(GenerationSelector::Only(36)));
        assert_eq!(selector("nil"), selector("0"));
        assert_eq!(selector("all"), Ok(GenerationSelector::All));
        assert!(selector("-1").unwrap_err().contains("`-1`"));
    }

    #[test]
    fn a_bad_choice_lists_the_good_ones() {
        let error = parse_choice::<RetainedBy>("by", "size").unwrap_err();
        assert_eq!(
            error.message(),
            "by must be object, class or location, not `size`"
        );
        assert_eq!(parse_choice::<TrendBy>("by", "class"), Ok(TrendBy::Class));
    }
}
