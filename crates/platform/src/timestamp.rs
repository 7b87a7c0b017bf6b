//! The one time type of stored instants: milliseconds since the Unix epoch, as the databases
//! keep them. APIs write it in RFC 3339 (UTC); people read it in Italy's local time
//! (Europe/Rome, with its summer time), `dd/mm/yyyy HH:MM`.

use std::sync::OnceLock;

use jiff::tz::TimeZone;

use crate::i18n::Lang;

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// The time zone of the people the pages speak to (the tz database bundled with the binary,
/// so that it does not depend on the host's).
fn rome() -> &'static TimeZone {
    static ROME: OnceLock<TimeZone> = OnceLock::new();
    ROME.get_or_init(|| TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC))
}

impl Timestamp {
    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn now() -> Self {
        Self(crate::db::now_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    fn jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC with the shortest fraction that keeps the milliseconds
    /// (`2024-02-29T13:05:00Z`, `2024-02-29T13:05:00.5Z`).
    pub fn rfc3339(self) -> String {
        let t = self.jiff();
        let ms = self.0.rem_euclid(1000);
        let base = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        if ms == 0 {
            format!("{base}Z")
        } else {
            let fraction = format!("{ms:03}");
            format!("{base}.{}Z", fraction.trim_end_matches('0'))
        }
    }

    /// Reads an RFC 3339 instant with its offset (`2027-01-31T23:00:00Z`,
    /// `2027-02-01T00:00:00+01:00`); `None` when it is not one.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let t: jiff::Timestamp = text.trim().parse().ok()?;
        Some(Self(t.as_millisecond()))
    }

    /// RFC 3339 in UTC with exactly three digits of milliseconds (`2023-01-22T00:00:00.123Z`),
    /// the IO platform's shape.
    pub fn rfc3339_millis(self) -> String {
        let ms = self.0.rem_euclid(1000);
        format!("{}.{ms:03}Z", self.jiff().strftime("%Y-%m-%dT%H:%M:%S"))
    }

    /// Date and time as people in Italy read them: `dd/mm/yyyy HH:MM`, local time. The same
    /// digits in both languages (the English pages are for the same Italian institutions).
    pub fn for_people(self, _lang: Lang) -> String {
        let local = self.jiff().to_zoned(rome().clone());
        local.strftime("%d/%m/%Y %H:%M").to_string()
    }

    /// The date alone, local time: `dd/mm/yyyy`.
    pub fn date_for_people(self, _lang: Lang) -> String {
        let local = self.jiff().to_zoned(rome().clone());
        local.strftime("%d/%m/%Y").to_string()
    }

    /// The local day `day` (`yyyy-mm-dd` as a date field sends it, or `dd/mm/yyyy` as a person
    /// writes it) in Italy: its first instant and the first of the next day. `None` when `day`
    /// is not a date.
    pub fn day_in_italy(day: &str) -> Option<(Timestamp, Timestamp)> {
        let day = day.trim();
        let date: jiff::civil::Date = if day.contains('/') {
            jiff::civil::Date::strptime("%d/%m/%Y", day).ok()?
        } else {
            day.parse().ok()?
        };
        let start = |d: jiff::civil::Date| {
            d.to_zoned(rome().clone())
                .ok()
                .map(|z| Timestamp(z.timestamp().as_millisecond()))
        };
        Some((start(date)?, start(date.tomorrow().ok()?)?))
    }
}

impl From<i64> for Timestamp {
    fn from(millis: i64) -> Self {
        Self(millis)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .description(Some("milliseconds since 1970-01-01T00:00:00Z"))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_read_back_with_its_offset() {
        let t = Timestamp(1_801_000_000_500);
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse_rfc3339("2027-02-01T00:00:00+01:00"),
            Timestamp::parse_rfc3339("2027-01-31T23:00:00Z")
        );
        assert_eq!(Timestamp::parse_rfc3339("31/01/2027"), None);
    }

    #[test]
    fn a_day_in_italy_starts_at_local_midnight_and_lasts_as_long_as_its_clocks_say() {
        // Winter: UTC+1.
        let (start, end) = Timestamp::day_in_italy("2024-01-15").unwrap();
        assert_eq!(start.rfc3339(), "2024-01-14T23:00:00Z");
        assert_eq!(end.rfc3339(), "2024-01-15T23:00:00Z");
        // The day summer time begins has 23 hours.
        let (start, end) = Timestamp::day_in_italy("2024-03-31").unwrap();
        assert_eq!(end.millis() - start.millis(), 23 * 3_600_000);
        assert_eq!(
            Timestamp::day_in_italy("31/03/2024"),
            Timestamp::day_in_italy("2024-03-31")
        );
        assert_eq!(Timestamp::day_in_italy("31/3"), None);
        assert_eq!(Timestamp::day_in_italy("2024-02-30"), None);
        assert_eq!(Timestamp::day_in_italy(""), None);
    }

    #[test]
    fn apis_read_rfc3339_in_utc() {
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_500).rfc3339(), "1970-01-01T00:00:01.5Z");
        assert_eq!(
            Timestamp(1_709_211_900_120).rfc3339(),
            "2024-02-29T13:05:00.12Z"
        );
        assert_eq!(Timestamp(0).rfc3339_millis(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_674_345_600_123).rfc3339_millis(),
            "2023-01-22T00:00:00.123Z"
        );
    }

    #[test]
    fn people_read_italian_local_time_with_summer_time() {
        // 2024-02-29 13:05 UTC is 14:05 in Rome (CET, UTC+1).
        assert_eq!(
            Timestamp(1_709_211_900_000).for_people(Lang::It),
            "29/02/2024 14:05"
        );
        assert_eq!(
            Timestamp(1_709_211_900_000).for_people(Lang::En),
            "29/02/2024 14:05"
        );
        // 2024-07-01 22:30 UTC is already 2 July in Rome (CEST, UTC+2).
        assert_eq!(
            Timestamp(1_719_873_000_000).for_people(Lang::It),
            "02/07/2024 00:30"
        );
        assert_eq!(
            Timestamp(1_719_873_000_000).date_for_people(Lang::It),
            "02/07/2024"
        );
        // Summer time starts on 2024-03-31 at 01:00 UTC: 00:59 UTC is 01:59, 01:00 UTC 03:00.
        assert_eq!(
            Timestamp(1_711_846_740_000).for_people(Lang::It),
            "31/03/2024 01:59"
        );
        assert_eq!(
            Timestamp(1_711_846_800_000).for_people(Lang::It),
            "31/03/2024 03:00"
        );
    }
}
