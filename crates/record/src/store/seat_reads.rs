//! Reading the seat time back: the quarters of a region and the days of an agent over a
//! period (see `seat_time` for how they are kept).

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use rusqlite::{params, Connection};

use super::seat_time::{SeatMillis, SELECT_MS};

/// One quarter hour of one region's seat time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatQuarter {
    /// When the quarter begins.
    pub quarter: DateTime<Utc>,
    /// The region the agents sat in (empty when a change named none).
    pub region: CompactString,
    /// Milliseconds in each column, summed over the region's agents.
    pub ms: SeatMillis,
}

/// One Beijing day of one agent's seat time and phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatDay {
    /// When the Beijing day begins.
    pub day: DateTime<Utc>,
    /// The agent.
    pub agent: CompactString,
    /// Milliseconds in each column.
    pub ms: SeatMillis,
    /// Times their phone rang with a call.
    pub offered: u64,
    /// Times it stopped ringing unanswered.
    pub rang_out: u64,
}

/// The ten millisecond columns starting at `first`.
fn millis(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<SeatMillis> {
    let mut out = [0u64; 10];
    for (i, v) in out.iter_mut().enumerate() {
        *v = u64::try_from(r.get::<_, i64>(first + i)?).unwrap_or(0);
    }
    Ok(out)
}

/// The quarters in `[from, to)`, by time then region; `None` when the store has no seat time.
pub(super) fn select_quarters(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> rusqlite::Result<Vec<SeatQuarter>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT quarter_ms, region, {SELECT_MS} FROM seat_quarters
         WHERE quarter_ms >= ?1 AND quarter_ms < ?2 ORDER BY quarter_ms, region"
    ))?;
    let mut rows = stmt.query(params![from.timestamp_millis(), to.timestamp_millis()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(quarter) = DateTime::from_timestamp_millis(r.get(0)?) else {
            continue;
        };
        out.push(SeatQuarter {
            quarter,
            region: r.get::<_, String>(1)?.into(),
            ms: millis(r, 2)?,
        });
    }
    Ok(out)
}

/// The agent-days in `[from, to)`, by day then agent.
pub(super) fn select_days(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> rusqlite::Result<Vec<SeatDay>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT day_ms, agent, offered, rang_out, {SELECT_MS} FROM seat_days
         WHERE day_ms >= ?1 AND day_ms < ?2 ORDER BY day_ms, agent"
    ))?;
    let mut rows = stmt.query(params![from.timestamp_millis(), to.timestamp_millis()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let Some(day) = DateTime::from_timestamp_millis(r.get(0)?) else {
            continue;
        };
        out.push(SeatDay {
            day,
            agent: r.get::<_, String>(1)?.into(),
            offered: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            rang_out: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            ms: millis(r, 4)?,
        });
    }
    Ok(out)
}
