//! The columns seat time and staffing count under: an agent's state, and for not ready its
//! reason, as the Hangzhou table has them.

use super::states::SeatState;

/// Where a stretch of seat time counts: the Hangzhou table's columns (接听, 振铃, 空闲, 小结,
/// and not ready by reason); logged-out time counts nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatColumn {
    /// On a call (接听).
    Talking,
    /// The phone ringing (振铃).
    Ringing,
    /// Free for a call (空闲).
    Available,
    /// After-call work (小结).
    WrapUp,
    /// Not ready: training (培训).
    Training,
    /// Not ready: a meeting (会议).
    Meeting,
    /// Not ready: paperwork (文书).
    Paperwork,
    /// Not ready: a break (休息).
    Break,
    /// Not ready: lunch (午餐).
    Lunch,
    /// Not ready for another reason, or none given.
    OtherNotReady,
}

impl SeatColumn {
    /// Every column, in the reports' order.
    pub const ALL: [SeatColumn; 10] = [
        SeatColumn::Talking,
        SeatColumn::Ringing,
        SeatColumn::Available,
        SeatColumn::WrapUp,
        SeatColumn::Training,
        SeatColumn::Meeting,
        SeatColumn::Paperwork,
        SeatColumn::Break,
        SeatColumn::Lunch,
        SeatColumn::OtherNotReady,
    ];

    /// The column an agent in `state` (for `reason`) counts under.
    pub fn of(state: SeatState, reason: Option<&str>) -> Option<SeatColumn> {
        Some(match (state, reason) {
            (SeatState::LoggedOut, _) => return None,
            (SeatState::Talking, _) => SeatColumn::Talking,
            (SeatState::Ringing, _) => SeatColumn::Ringing,
            (SeatState::Available, _) => SeatColumn::Available,
            (SeatState::WrapUp, _) => SeatColumn::WrapUp,
            (SeatState::NotReady, Some("training")) => SeatColumn::Training,
            (SeatState::NotReady, Some("meeting")) => SeatColumn::Meeting,
            (SeatState::NotReady, Some("paperwork")) => SeatColumn::Paperwork,
            (SeatState::NotReady, Some("break")) => SeatColumn::Break,
            (SeatState::NotReady, Some("lunch")) => SeatColumn::Lunch,
            (SeatState::NotReady, _) => SeatColumn::OtherNotReady,
        })
    }

    /// Its place in [`SeatColumn::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its name in reports' JSON and CSV (`talking`, `wrap-up`, `not-ready`, ...).
    pub fn key(self) -> &'static str {
        match self {
            SeatColumn::Talking => "talking",
            SeatColumn::Ringing => "ringing",
            SeatColumn::Available => "available",
            SeatColumn::WrapUp => "wrap-up",
            SeatColumn::Training => "training",
            SeatColumn::Meeting => "meeting",
            SeatColumn::Paperwork => "paperwork",
            SeatColumn::Break => "break",
            SeatColumn::Lunch => "lunch",
            SeatColumn::OtherNotReady => "not-ready",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_state_and_reason() {
        assert_eq!(SeatColumn::of(SeatState::LoggedOut, None), None);
        assert_eq!(
            SeatColumn::of(SeatState::NotReady, Some("lunch")),
            Some(SeatColumn::Lunch)
        );
        assert_eq!(
            SeatColumn::of(SeatState::NotReady, Some("no-answer")),
            Some(SeatColumn::OtherNotReady)
        );
        for (i, c) in SeatColumn::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
    }
}
