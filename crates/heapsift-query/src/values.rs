//! The values queries are made of, read from text the same way wherever
//! the text comes from (a command-line argument, a URL).

use std::ffi::OsStr;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Command, ValueEnum};
use heapsift_graph::Grouping;
use heapsift_reports::{GenerationSelector, TrendGrouping};

use crate::QueryError;

/// An object address as dumps write it: hex, with or without `0x`.
pub fn parse_address_arg(text: &str) -> Result<u64, String> {
    heapsift_parse::parse_address(text.as_bytes())
        .ok_or_else(|| format!("expected an object address such as 0x7f30cc77e440, not `{text}`"))
}

/// A count (`--top`, `--lines`) read from text.
pub fn parse_count(name: &str, text: &str) -> Result<usize, QueryError> {
    text.parse()
        .map_err(|_| QueryError::Invalid(format!("{name} must be a number, not `{text}`")))
}

/// A count that must be 1 or more (`suspects --top`, `--last`).
pub fn parse_positive_count(name: &str, text: &str) -> Result<usize, QueryError> {
    match parse_count(name, text)? {
        0 => Err(QueryError::Invalid(format!(
            "{name} must be 1 or more, not 0"
        ))),
        count => Ok(count),
    }
}

/// A choice (`--by`) read from text.
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

/// Reads a count for clap with [`parse_count`] (or
/// [`parse_positive_count`]), so that the command line refuses a bad one
/// with the web API's words.
#[derive(Debug, Clone, Copy)]
pub struct CountParser {
    name: &'static str,
    parse: fn(&str, &str) -> Result<usize, QueryError>,
}

impl CountParser {
    /// Any count, 0 included, for the option called `name`.
    pub const fn new(name: &'static str) -> Self {
        CountParser {
            name,
            parse: parse_count,
        }
    }

    /// A count of 1 or more.
    pub const fn positive(name: &'static str) -> Self {
        CountParser {
            name,
            parse: parse_positive_count,
        }
    }
}

impl TypedValueParser for CountParser {
    type Value = usize;

    fn parse_ref(
        &self,
        command: &Command,
        _: Option<&Arg>,
        value: &OsStr,
    ) -> Result<usize, clap::Error> {
        (self.parse)(self.name, &value.to_string_lossy()).map_err(|e| refused(command, &e))
    }
}

/// Reads a choice for clap with [`parse_choice`], listing the choices in
/// `--help` as clap's own parser does.
#[derive(Debug, Clone, Copy)]
pub struct ChoiceParser<T> {
    name: &'static str,
    choice: PhantomData<T>,
}

impl<T> ChoiceParser<T> {
    /// A parser for the option called `name` in messages (and in the web
    /// API's parameters).
    pub fn new(name: &'static str) -> Self {
        ChoiceParser {
            name,
            choice: PhantomData,
        }
    }
}

impl<T: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for ChoiceParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        command: &Command,
        _: Option<&Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        parse_choice(self.name, &value.to_string_lossy()).map_err(|e| refused(command, &e))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            T::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// clap's usage error carrying the query's message.
fn refused(command: &Command, error: &QueryError) -> clap::Error {
    clap::Error::raw(ErrorKind::InvalidValue, format!("{error}\n")).with_cmd(command)
}

/// A choice by the name the command line and the web API give it.
fn choice_name(choice: &impl ValueEnum, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match choice.to_possible_value() {
        Some(value) => f.write_str(value.get_name()),
        None => Ok(()),
    }
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

impl fmt::Display for RetainedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        choice_name(self, f)
    }
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

impl fmt::Display for TrendBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        choice_name(self, f)
    }
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
