//! The agent's key layout: `<dyno>/<YYYY-MM-DDTHH:MM:SS.sssZ>-process:<pid>-heap.dump.gz`.

use chrono::{DateTime, Utc};

/// What a key in the agent's layout says about its dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpKey {
    /// The dyno, e.g. `web.1`: the folder the file is in.
    pub dyno: String,
    /// When the dump was taken, UTC with milliseconds, as in the key.
    pub time: String,
    /// The process that took it.
    pub pid: u32,
}

impl DumpKey {
    /// Reads a key (or the end of one: any prefix before the dyno is
    /// ignored); `None` when it is not in the agent's layout.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.rsplit('/');
        let name = parts.next()?;
        let dyno = parts.next().filter(|dyno| !dyno.is_empty())?;
        let (time, rest) = name.split_once("-process:")?;
        let (pid, _) = rest.split_once('-')?;
        if !is_key_time(time) {
            return None;
        }
        Some(DumpKey {
            dyno: dyno.to_owned(),
            time: time.to_owned(),
            pid: pid.parse().ok()?,
        })
    }
}

/// Whether the text is a time as the agent writes it:
/// `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn is_key_time(text: &str) -> bool {
    const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(byte, &shape)| match shape {
            b'0' => byte.is_ascii_digit(),
            _ => byte == shape,
        })
}

/// A time in the layout of the agent's keys.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_agents_keys() {
        assert_eq!(
            DumpKey::parse("prod/web.1/2026-11-27T14:03:09.512Z-process:4242-heap.dump.gz"),
            Some(DumpKey {
                dyno: "web.1".into(),
                time: "2026-11-27T14:03:09.512Z".into(),
                pid: 4242,
            })
        );
    }

    #[test]
    fn other_keys_are_not_dumps_of_the_agent() {
        for key in [
            "2026-11-27T14:03:09.512Z-process:4242-heap.dump.gz",
            "web.1/notes.txt",
            "web.1/2026-11-27T14:03:09Z-process:4242-heap.dump.gz",
            "web.1/2026-11-27T14:03:09.512Z-process:x-heap.dump.gz",
        ] {
            assert_eq!(DumpKey::parse(key), None, "{key}");
        }
    }

    #[test]
    fn formats_times_like_keys() {
        let time = DateTime::from_timestamp_millis(1_795_788_189_512).unwrap();
        assert_eq!(format_time(time), "2026-11-27T14:03:09.512Z");
    }
}
