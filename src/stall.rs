//! The one rule that decides when a data phase has stalled, for every bytestream (S5B
//! and IBB, both roles) and HTTP: fewer than a floor of bytes moved in `--timeout`
//! seconds. A peer that moves nothing, or a few bytes now and then, is stalled alike:
//! a deadline that any byte resets can be kept alive for ever by a trickle (issue 19,
//! item 2: a receiver reading a little at a time held `xft send` three times its
//! `--timeout`). Pure: it is told bytes and instants, and says when to look again.

use std::time::Duration;

use tokio::time::Instant;

/// Bytes a socket or HTTP transfer must move in each `--timeout` window: 16 KiB, a few
/// packets. At the default 60 s that is 273 bytes a second; a real link that slow is
/// not carrying a file.
pub(crate) const FLOOR: u64 = 16 * 1024;

/// Watches one data phase's byte count.
#[derive(Debug, Clone)]
pub(crate) struct StallWatch {
    limit: Duration,
    floor: u64,
    /// Bytes the phase has to move in all (at most this much is asked of a window).
    total: u64,
    /// The byte count and instant the current window started at.
    mark: (u64, Instant),
}

impl StallWatch {
    /// A watch over `total` bytes that must move `floor` bytes (or what is left) within
    /// every `limit`, starting now at `already` bytes.
    pub(crate) fn new(limit: Duration, floor: u64, total: u64, already: u64) -> StallWatch {
        StallWatch {
            limit,
            floor: floor.max(1),
            total,
            mark: (already, Instant::now()),
        }
    }

    /// The window's bound.
    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// Takes note that `moved` bytes have moved in all by `now`: once the window's floor
    /// is reached, a new window starts. True when the window ran out first (stalled).
    pub(crate) fn stalled(&mut self, moved: u64, now: Instant) -> bool {
        let (from, since) = self.mark;
        let wanted = self.floor.min(self.total.saturating_sub(from)).max(1);
        if moved.saturating_sub(from) >= wanted {
            self.mark = (moved, now);
            return false;
        }
        now.saturating_duration_since(since) >= self.limit
    }

    /// When the current window ends: nothing can be decided before then.
    pub(crate) fn deadline(&self) -> Instant {
        self.mark.1 + self.limit
    }

    /// How often to look at a byte count kept elsewhere (a copy on another thread).
    pub(crate) fn tick(&self) -> Duration {
        poll_interval(self.limit)
    }
}

/// How often a watch over `limit` looks, and how long a blocking socket call of a copy
/// may wait before it comes back with what it moved: an eighth of the limit, between
/// 20 and 500 ms, so a stall is seen at most that late.
pub(crate) fn poll_interval(limit: Duration) -> Duration {
    (limit / 8).clamp(Duration::from_millis(20), Duration::from_millis(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: f64) -> Instant {
        start + Duration::from_secs_f64(secs)
    }

    /// A trickle under the floor is a stall once the window ends, however often it
    /// moves; a steady flow never is.
    #[test]
    fn a_trickle_is_a_stall_and_a_flow_is_not() {
        let mut watch = StallWatch::new(Duration::from_secs(3), FLOOR, 1 << 20, 0);
        let start = watch.mark.1;
        let mut moved = 0;
        for tenth in 1..30 {
            moved += 100;
            assert!(!watch.stalled(moved, at(start, f64::from(tenth) / 10.0)));
        }
        assert!(watch.stalled(moved + 100, at(start, 3.0)));

        let mut watch = StallWatch::new(Duration::from_secs(3), FLOOR, 1 << 20, 0);
        let start = watch.mark.1;
        for second in 1..60 {
            let moved = second * FLOOR;
            assert!(!watch.stalled(moved, at(start, second as f64 * 2.9)));
        }
    }

    /// The last window asks only for what is left; nothing at all moving is a stall.
    #[test]
    fn the_end_of_a_file_needs_only_what_is_left() {
        let mut watch = StallWatch::new(Duration::from_secs(3), FLOOR, FLOOR + 10, FLOOR);
        let start = watch.mark.1;
        assert!(!watch.stalled(FLOOR + 10, at(start, 2.9)));
        assert!(!watch.stalled(FLOOR + 10, at(start, 5.0)));
        let mut idle = StallWatch::new(Duration::from_secs(3), FLOOR, 100, 0);
        let start = idle.mark.1;
        assert!(!idle.stalled(0, at(start, 2.9)));
        assert!(idle.stalled(0, at(start, 3.0)));
        assert_eq!(idle.deadline(), at(start, 3.0));
    }
}
