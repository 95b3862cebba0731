//! Seat time: how long agents spent in each staffing column, summed per quarter hour and
//! region (`seat_quarters`, for `report intervals`) and per Beijing day and agent
//! (`seat_days`, for `report agents`), kept by the store writer as each state change
//! arrives, in the same transaction.
//!
//! A year of a province is millions of state changes; a staffing figure over it is a sum,
//! so it is summed once as the changes come, not again at every report. A change closes the
//! agent's previous stretch (from their last change to this one), which is added to the
//! quarters and days it spans; the stretch an agent is in now is not closed yet, and a report
//! adds it from the agent's latest change ([`super::states::list_latest_states`]).

use std::collections::HashMap;

use chrono::DateTime;
use compact_str::CompactString;
use rusqlite::{params, Connection, OptionalExtension};

pub use super::seat_column::SeatColumn;
use super::states::{AgentStateChange, SeatState};

pub(super) use super::seat_reads::{select_days, select_quarters};
pub use super::seat_reads::{SeatDay, SeatQuarter};

/// Milliseconds in each [`SeatColumn`], in [`SeatColumn::ALL`] order.
pub type SeatMillis = [u64; 10];

/// A quarter hour in milliseconds; Beijing's offset is a whole number of them, so UTC
/// quarters are Beijing's.
pub const QUARTER_MS: i64 = 15 * 60 * 1000;
/// A day in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Beijing's offset from UTC in milliseconds.
const BEIJING_MS: i64 = 8 * 60 * 60 * 1000;

/// The start of the Beijing day holding `ms` (milliseconds since 1970).
pub fn beijing_day_start(ms: i64) -> i64 {
    (ms + BEIJING_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_MS
}

/// The columns of both tables, for the schema and the reads.
const COLUMNS_SQL: &str = "talking_ms INTEGER NOT NULL DEFAULT 0,
    ringing_ms INTEGER NOT NULL DEFAULT 0, available_ms INTEGER NOT NULL DEFAULT 0,
    wrap_up_ms INTEGER NOT NULL DEFAULT 0, training_ms INTEGER NOT NULL DEFAULT 0,
    meeting_ms INTEGER NOT NULL DEFAULT 0, paperwork_ms INTEGER NOT NULL DEFAULT 0,
    break_ms INTEGER NOT NULL DEFAULT 0, lunch_ms INTEGER NOT NULL DEFAULT 0,
    not_ready_ms INTEGER NOT NULL DEFAULT 0";

/// The ten columns as selected.
pub(super) const SELECT_MS: &str = "talking_ms, ringing_ms, available_ms, wrap_up_ms, \
    training_ms, meeting_ms, paperwork_ms, break_ms, lunch_ms, not_ready_ms";

fn schema() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS seat_quarters (
            quarter_ms INTEGER NOT NULL,
            region     TEXT NOT NULL,
            {COLUMNS_SQL},
            PRIMARY KEY (quarter_ms, region)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS seat_days (
            day_ms   INTEGER NOT NULL,
            agent    TEXT NOT NULL,
            offered  INTEGER NOT NULL DEFAULT 0,
            rang_out INTEGER NOT NULL DEFAULT 0,
            {COLUMNS_SQL},
            PRIMARY KEY (day_ms, agent)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS seat_time_mark (last_id INTEGER NOT NULL);
        INSERT INTO seat_time_mark (last_id)
            SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM seat_time_mark);"
    )
}

/// Where an agent's open stretch began, and what it counts as.
#[derive(Debug, Clone)]
struct Open {
    at_ms: i64,
    column: Option<SeatColumn>,
    region: CompactString,
}

/// What seat time adds up to.
trait Sink {
    fn add_quarter(&mut self, quarter_ms: i64, region: &str, column: SeatColumn, ms: i64);
    fn add_day(&mut self, day_ms: i64, agent: &str, column: SeatColumn, ms: i64);
    fn count_day(&mut self, day_ms: i64, agent: &str, offered: bool, rang_out: bool);
}

/// Each agent's open stretch, as the writer knows it, and the seat time its batch adds.
#[derive(Default)]
pub(super) struct SeatClock {
    open: HashMap<CompactString, Open>,
    pending: Sums,
    /// What the change being written adds, until its row is in.
    staged: Option<(Sums, CompactString, Open)>,
    /// The last `agent_states` row the pending seat time covers.
    last_id: Option<i64>,
}

impl SeatClock {
    /// Works out what `change` closes and counts, before its row is written (an agent the
    /// clock has not seen is looked up by their latest row). A change older than the agent's
    /// last is moved up to it: a clock stepped back must not reorder an agent's states.
    pub(super) fn stage(
        &mut self,
        conn: &Connection,
        change: &mut AgentStateChange,
    ) -> rusqlite::Result<()> {
        if !self.open.contains_key(&change.agent) {
            if let Some(open) = latest_open(conn, &change.agent, i64::MAX)? {
                self.open.insert(change.agent.clone(), open);
            }
        }
        if let Some(open) = self.open.get(&change.agent) {
            if change.at.timestamp_millis() < open.at_ms {
                if let Some(at) = DateTime::from_timestamp_millis(open.at_ms) {
                    tracing::warn!(agent = %change.agent, from = %change.at, to = %at, "agent state change earlier than the last one (clock stepped back): recorded at the last one's time");
                    change.at = at;
                }
            }
        }
        let mut sums = Sums::default();
        let open = tally(self.open.get(&change.agent), change, &mut sums);
        self.staged = Some((sums, change.agent.clone(), open));
        Ok(())
    }

    /// The staged change's row is in (as row `id`): its seat time joins the batch's.
    pub(super) fn confirm(&mut self, id: i64) {
        if let Some((sums, agent, open)) = self.staged.take() {
            self.pending.merge(sums);
            self.open.insert(agent, open);
            self.last_id = Some(id);
        }
    }

    /// The staged change's row was refused: it adds nothing.
    pub(super) fn discard(&mut self) {
        self.staged = None;
    }

    /// Adds the batch's seat time to the tables and moves the mark past its rows, in the
    /// batch's transaction.
    pub(super) fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        write_sums(conn, &pending)?;
        if let Some(id) = self.last_id.take() {
            conn.execute("UPDATE seat_time_mark SET last_id = ?1", [id])?;
        }
        Ok(())
    }

    /// The batch was rolled back: what the clock knows is no longer what is stored, so it
    /// starts again from the stored rows.
    pub(super) fn forget(&mut self) {
        *self = SeatClock::default();
    }
}

/// What `c` closes of the agent's open stretch (`open`) and counts, added to `sink`; the
/// stretch it opens. A change before the open stretch began closes nothing.
fn tally(open: Option<&Open>, c: &AgentStateChange, sink: &mut dyn Sink) -> Open {
    let at = c.at.timestamp_millis();
    if let Some(open) = open.filter(|o| o.at_ms <= at) {
        if let Some(column) = open.column {
            spread(open.at_ms, at, QUARTER_MS, 0, |q, ms| {
                sink.add_quarter(q, &open.region, column, ms)
            });
            spread(open.at_ms, at, DAY_MS, BEIJING_MS, |d, ms| {
                sink.add_day(d, &c.agent, column, ms)
            });
        }
    }
    let offered = c.from.is_some() && c.to == SeatState::Ringing;
    let rang_out = c.from == Some(SeatState::Ringing)
        && !matches!(c.to, SeatState::Talking | SeatState::LoggedOut);
    if offered || rang_out {
        sink.count_day(beijing_day_start(at), &c.agent, offered, rang_out);
    }
    Open {
        at_ms: at,
        column: SeatColumn::of(c.to, c.reason.as_deref()),
        region: c.region.clone().unwrap_or_default(),
    }
}

/// Calls `add(bucket start, ms)` for each bucket of `size` (aligned at `offset` before each
/// multiple of `size`) that `[from, to)` overlaps.
fn spread(from: i64, to: i64, size: i64, offset: i64, mut add: impl FnMut(i64, i64)) {
    let mut start = (from + offset).div_euclid(size) * size - offset;
    while start < to {
        let end = start + size;
        let ms = to.min(end) - from.max(start);
        if ms > 0 {
            add(start, ms);
        }
        start = end;
    }
}

/// The agent's latest stored change (of the rows up to `up_to`), as an open stretch.
fn latest_open(conn: &Connection, agent: &str, up_to: i64) -> rusqlite::Result<Option<Open>> {
    conn.query_row(
        "SELECT at, to_state, reason, region FROM agent_states
         WHERE agent = ?1 AND id <= ?2 ORDER BY at DESC, id DESC LIMIT 1",
        params![agent, up_to],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        },
    )
    .optional()
    .map(|row| {
        row.and_then(|(at, to, reason, region)| {
            Some(Open {
                at_ms: super::journal::time(&at)?.timestamp_millis(),
                column: SeatColumn::of(to.parse().ok()?, reason.as_deref()),
                region: region.unwrap_or_default().into(),
            })
        })
    })
}

/// Seat time summed in memory, then added to the tables at once: a writer's batch (under
/// load, hundreds of changes adding to the same few quarters) or a store's whole history.
#[derive(Default)]
struct Sums {
    quarters: HashMap<(i64, CompactString), SeatMillis>,
    days: HashMap<(i64, CompactString), (SeatMillis, u64, u64)>,
}

impl Sums {
    fn merge(&mut self, other: Sums) {
        for (key, ms) in other.quarters {
            let cell = self.quarters.entry(key).or_default();
            for (a, b) in cell.iter_mut().zip(ms) {
                *a += b;
            }
        }
        for (key, (ms, offered, rang_out)) in other.days {
            let cell = self.days.entry(key).or_default();
            for (a, b) in cell.0.iter_mut().zip(ms) {
                *a += b;
            }
            cell.1 += offered;
            cell.2 += rang_out;
        }
    }
}

impl Sink for Sums {
    fn add_quarter(&mut self, quarter_ms: i64, region: &str, column: SeatColumn, ms: i64) {
        let cell = self
            .quarters
            .entry((quarter_ms, region.into()))
            .or_default();
        if let Some(v) = cell.get_mut(column.index()) {
            *v += u64::try_from(ms).unwrap_or(0);
        }
    }

    fn add_day(&mut self, day_ms: i64, agent: &str, column: SeatColumn, ms: i64) {
        let cell = self.days.entry((day_ms, agent.into())).or_default();
        if let Some(v) = cell.0.get_mut(column.index()) {
            *v += u64::try_from(ms).unwrap_or(0);
        }
    }

    fn count_day(&mut self, day_ms: i64, agent: &str, offered: bool, rang_out: bool) {
        let cell = self.days.entry((day_ms, agent.into())).or_default();
        cell.1 += u64::from(offered);
        cell.2 += u64::from(rang_out);
    }
}

/// Creates the tables when the store lacks them, and adds the state changes stored past
/// the seat time's mark: every change, when a store written before seat time is first
/// opened; the changes an older switch wrote, when one ran on it since.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    if kept(conn)? && behind(conn)?.is_none() {
        return Ok(());
    }
    // Immediate, and asked again inside: two openers at once add the rows once.
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    if !kept(&tx)? {
        // Sums without a mark are of unknown rows: start them again from the first row.
        tx.execute_batch(&schema())?;
        tx.execute_batch("DELETE FROM seat_quarters; DELETE FROM seat_days;")?;
    }
    let Some((mark, last)) = behind(&tx)? else {
        return tx.commit();
    };
    let mut open: HashMap<CompactString, Open> = HashMap::new();
    let mut sums = Sums::default();
    {
        // In the order they were written, as the writer would have seen them.
        let mut stmt = tx.prepare(
            "SELECT at, agent, from_state, to_state, reason, region FROM agent_states
             WHERE id > ?1 AND id <= ?2 ORDER BY id",
        )?;
        let mut rows = stmt.query([mark, last])?;
        while let Some(r) = rows.next()? {
            let (Some(at), Ok(to)) = (
                super::journal::time(&r.get::<_, String>(0)?),
                r.get::<_, String>(3)?.parse::<SeatState>(),
            ) else {
                continue;
            };
            let change = AgentStateChange {
                at,
                agent: r.get::<_, String>(1)?.into(),
                from: r.get::<_, String>(2)?.parse().ok(),
                to,
                reason: r.get::<_, Option<String>>(4)?.map(Into::into),
                region: r.get::<_, Option<String>>(5)?.map(Into::into),
            };
            if !open.contains_key(&change.agent) {
                if let Some(o) = latest_open(&tx, &change.agent, mark)? {
                    open.insert(change.agent.clone(), o);
                }
            }
            let next = tally(open.get(&change.agent), &change, &mut sums);
            if open
                .get(&change.agent)
                .is_none_or(|o| o.at_ms <= next.at_ms)
            {
                open.insert(change.agent.clone(), next);
            }
        }
    }
    write_sums(&tx, &sums)?;
    tx.execute("UPDATE seat_time_mark SET last_id = ?1", [last])?;
    tx.commit()
}

/// The mark and the last state row, when rows past the mark are not in the seat time yet.
fn behind(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    let mark: i64 = conn.query_row("SELECT last_id FROM seat_time_mark", [], |r| r.get(0))?;
    let last: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM agent_states", [], |r| {
        r.get(0)
    })?;
    Ok((last > mark).then_some((mark, last)))
}

fn write_sums(conn: &Connection, sums: &Sums) -> rusqlite::Result<()> {
    let add = "talking_ms = talking_ms + excluded.talking_ms,
        ringing_ms = ringing_ms + excluded.ringing_ms,
        available_ms = available_ms + excluded.available_ms,
        wrap_up_ms = wrap_up_ms + excluded.wrap_up_ms,
        training_ms = training_ms + excluded.training_ms,
        meeting_ms = meeting_ms + excluded.meeting_ms,
        paperwork_ms = paperwork_ms + excluded.paperwork_ms,
        break_ms = break_ms + excluded.break_ms,
        lunch_ms = lunch_ms + excluded.lunch_ms,
        not_ready_ms = not_ready_ms + excluded.not_ready_ms";
    let mut quarters = conn.prepare_cached(&format!(
        "INSERT INTO seat_quarters (quarter_ms, region, {SELECT_MS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (quarter_ms, region) DO UPDATE SET {add}"
    ))?;
    for ((q, region), ms) in &sums.quarters {
        let [a, b, c, d, e, f, g, h, i, j] = ms.map(|x| i64::try_from(x).unwrap_or(i64::MAX));
        quarters.execute(params![q, region.as_str(), a, b, c, d, e, f, g, h, i, j])?;
    }
    let mut days = conn.prepare_cached(&format!(
        "INSERT INTO seat_days (day_ms, agent, offered, rang_out, {SELECT_MS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (day_ms, agent) DO UPDATE SET offered = offered + excluded.offered,
             rang_out = rang_out + excluded.rang_out, {add}"
    ))?;
    for ((day, agent), (ms, offered, rang_out)) in &sums.days {
        let [a, b, c, d, e, f, g, h, i, j] = ms.map(|x| i64::try_from(x).unwrap_or(i64::MAX));
        let (o, r) = (
            i64::try_from(*offered).unwrap_or(0),
            i64::try_from(*rang_out).unwrap_or(0),
        );
        days.execute(params![
            day,
            agent.as_str(),
            o,
            r,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            i,
            j
        ])?;
    }
    Ok(())
}

/// Whether the store keeps seat time (one only ever read, never opened by a switch of this
/// version nor writable, does not).
pub(super) fn kept(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seat_time_mark'",
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|x| x.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stretch_is_spread_over_the_buckets_it_spans() {
        let mut seen = Vec::new();
        spread(10, 2 * QUARTER_MS + 5, QUARTER_MS, 0, |b, ms| {
            seen.push((b, ms))
        });
        assert_eq!(
            seen,
            [
                (0, QUARTER_MS - 10),
                (QUARTER_MS, QUARTER_MS),
                (2 * QUARTER_MS, 5)
            ]
        );
    }

    #[test]
    fn beijing_days_begin_at_16_00_utc() {
        let at = DateTime::parse_from_rfc3339("2026-12-05T01:00:00+08:00").unwrap();
        let start = beijing_day_start(at.timestamp_millis());
        let midnight = DateTime::parse_from_rfc3339("2026-12-05T00:00:00+08:00").unwrap();
        assert_eq!(start, midnight.timestamp_millis());
    }
}
