//! Time as the core sees it: two readings, never read from the machine, that come together
//! with every input as a [`Now`].
//!
//! [`MonoTime`] is the node's monotonic clock and drives every timer. [`WallTime`] is the node's
//! wall-clock reading and feeds only the hybrid logical clock. Keeping them apart lets a host (or
//! the simulator) skew, drift and jump the wall clock without disturbing timers; taking both
//! with each input means no input can run on a stale wall reading.

use serde::{Deserialize, Serialize};

/// A reading of the node's monotonic clock, in milliseconds from an arbitrary origin.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct MonoTime(pub u64);

impl MonoTime {
    /// This instant moved `ms` milliseconds later (saturating at the end of time).
    pub fn plus_ms(self, ms: u64) -> MonoTime {
        MonoTime(self.0.saturating_add(ms))
    }
}

/// A reading of the node's wall clock, in milliseconds since the Unix epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct WallTime(pub u64);

impl WallTime {
    /// The calendar date and time of day of this instant read as UTC, as `("YYYY-MM-DD",
    /// "HH:MM:SS")`, by Howard Hinnant's days-to-civil algorithm.
    pub fn civil(self) -> (String, String) {
        let utc_s = self.0 / 1_000;
        let days = (utc_s / 86_400) as i64;
        let second_of_day = utc_s % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let (h, m, s) = (second_of_day / 3_600, second_of_day / 60 % 60, second_of_day % 60);
        (format!("{year:04}-{month:02}-{day:02}"), format!("{h:02}:{m:02}:{s:02}"))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`: this instant read as UTC, to the millisecond.
    pub fn iso_utc(self) -> String {
        let (date, time) = self.civil();
        format!("{date}T{time}.{:03}Z", self.0 % 1_000)
    }
}

/// Both clock readings of a node at one instant: every input and command takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Drives timers: deadlines, backoffs, the background sync, collection.
    pub mono: MonoTime,
    /// Feeds the hybrid logical clock that stamps writes, and the server's retention windows.
    pub wall: WallTime,
}

impl Now {
    pub fn new(mono: MonoTime, wall: WallTime) -> Now {
        Now { mono, wall }
    }

    /// The same instant `ms` milliseconds later on both clocks.
    pub fn plus_ms(self, ms: u64) -> Now {
        Now { mono: self.mono.plus_ms(ms), wall: WallTime(self.wall.0.saturating_add(ms)) }
    }
}
