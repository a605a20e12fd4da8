//! Activity schedules: what the person does when. Scripted from a file (`--scenario FILE`)
//! or drawn at random from the seed.
//!
//! # Scenario file format
//! Plain text, one activity per line: `START_S END_S ACTIVITY`, fields separated by spaces
//! or tabs, times in seconds from the start of the run, the activity by its class name
//! (`empty_room`, `walking`, `sitting_down`, `standing_up`, `falling`, `waving`,
//! `clapping`, `kicking`, `jumping`, `bending`, `turning`, `drinking`, `phone_call`).
//! Blank lines and everything after `#` are ignored. Lines must be in time order and must
//! not overlap; gaps between them are unlabeled idle time in which the person moves on from
//! one activity to the next (see [`world`](super::world)).
//! ```text
//! # a person walks in, waves, sits down
//! 0.5  4.5  walking
//! 5.0  7.5  waving
//! 8.0 10.5  sitting_down
//! ```
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagr_classes::Label;
use rand_chacha::ChaCha8Rng;

use super::activity::{typical_duration, Activity};
use super::draw::{seeded, uniform, Stream};

/// One scheduled activity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    /// Start, s since the run started.
    pub start: f64,
    /// End, s (after `start`).
    pub end: f64,
    /// What is done.
    pub activity: Activity,
}

impl Scheduled {
    /// The ground-truth label of this activity.
    pub fn label(&self) -> Label {
        Label {
            start: self.start,
            end: self.end,
            class: self.activity.name().to_string(),
        }
    }
}

/// Activities in time order, not overlapping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// The activities.
    pub items: Vec<Scheduled>,
}

/// Shortest activity a scenario may ask for, s.
pub const MIN_ACTIVITY: f64 = 0.5;
/// Idle gap between random activities, s (drawn uniformly in this range).
pub const RANDOM_GAP: (f64, f64) = (0.5, 1.5);
/// Seated pause between sitting down and standing up, s.
pub const SEATED_GAP: (f64, f64) = (1.0, 3.0);
/// Time to get up from the floor after a fall, s.
pub const GET_UP_GAP: (f64, f64) = (2.5, 4.0);

/// A scenario file that could not be read or understood.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What was wrong and what was expected.
    pub reason: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "scenario {}: {}", self.path.display(), self.reason)
        } else {
            write!(
                f,
                "scenario {} line {}: {}",
                self.path.display(),
                self.line,
                self.reason
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

impl Schedule {
    /// Reads a scenario file (format in the [module doc](self)).
    pub fn load(path: &Path) -> Result<Schedule, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            path: path.to_path_buf(),
            line: 0,
            reason: e.to_string(),
        })?;
        Schedule::parse(&text).map_err(|(line, reason)| ScenarioError {
            path: path.to_path_buf(),
            line,
            reason,
        })
    }

    /// Parses scenario text; errors are (1-based line, reason naming the field).
    pub fn parse(text: &str) -> Result<Schedule, (usize, String)> {
        let mut items: Vec<Scheduled> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or_default();
            let fields: Vec<&str> = content.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let item = parse_line(&fields).map_err(|reason| (line, reason))?;
            if let Some(previous) = items.last() {
                if item.start < previous.end {
                    return Err((
                        line,
                        format!(
                            "field start_s: {} is before the previous activity's end {}; \
                             lines must be in time order and must not overlap",
                            item.start, previous.end
                        ),
                    ));
                }
            }
            items.push(item);
        }
        Ok(Schedule { items })
    }

    /// A random schedule filling `duration` s, in plausible orders: activities drawn
    /// uniformly (never `empty_room` twice in a row), each lasting its typical duration,
    /// separated by idle gaps of [`RANDOM_GAP`] in which the person moves on to the next
    /// one; `standing_up` only ever follows `sitting_down` (a seated pause of
    /// [`SEATED_GAP`] between them), and a fall is followed by [`GET_UP_GAP`] to get up
    /// before anything else. The first starts after one gap, and the last ends by
    /// `duration` (cut short if at least its shortest typical duration fits). Held whole:
    /// [`RandomDraw`] yields the same activities one at a time.
    pub fn random(seed: u64, duration: f64) -> Schedule {
        Schedule {
            items: RandomDraw::new(seed, duration).collect(),
        }
    }

    /// The activity under way at `t`, if any.
    pub fn at(&self, t: f64) -> Option<&Scheduled> {
        let i = self.items.partition_point(|s| s.end <= t);
        self.items.get(i).filter(|s| s.start <= t)
    }
}

/// [`Schedule::random`]'s activities drawn one at a time, in time order, from the same
/// random stream in the same order: a run of any length holds only the activity it is at.
#[derive(Debug, Clone)]
pub struct RandomDraw {
    rng: ChaCha8Rng,
    /// Start of the next activity, s.
    t: f64,
    duration: f64,
    previous: Option<Activity>,
    /// The activities drawn from (all but `standing_up`, which follows `sitting_down`).
    drawable: Vec<Activity>,
    done: bool,
}

impl RandomDraw {
    /// The draw of [`Schedule::random`]`(seed, duration)`, at its first activity.
    pub fn new(seed: u64, duration: f64) -> RandomDraw {
        let mut rng = seeded(Stream::Schedule, seed, 0);
        let t = uniform(&mut rng, RANDOM_GAP.0, RANDOM_GAP.1);
        RandomDraw {
            rng,
            t,
            duration,
            previous: None,
            drawable: Activity::ALL
                .into_iter()
                .filter(|a| *a != Activity::StandingUp)
                .collect(),
            done: false,
        }
    }
}

impl Iterator for RandomDraw {
    type Item = Scheduled;

    fn next(&mut self) -> Option<Scheduled> {
        if self.done {
            return None;
        }
        let rng = &mut self.rng;
        let activity = if self.previous == Some(Activity::SittingDown) {
            Activity::StandingUp
        } else {
            loop {
                let n = self.drawable.len();
                let k = (uniform(rng, 0.0, 1.0) * n as f64) as usize;
                let pick = self.drawable[k % n];
                if !(pick == Activity::EmptyRoom && self.previous == Some(Activity::EmptyRoom)) {
                    break pick;
                }
            }
        };
        let (lo, hi) = typical_duration(activity);
        let start = self.t;
        let end = (start + uniform(rng, lo, hi)).min(self.duration);
        if end - start < lo {
            self.done = true;
            return None;
        }
        let gap = match activity {
            Activity::SittingDown => SEATED_GAP,
            Activity::Falling => GET_UP_GAP,
            _ => RANDOM_GAP,
        };
        self.t = end + uniform(rng, gap.0, gap.1);
        self.previous = Some(activity);
        Some(Scheduled {
            start,
            end,
            activity,
        })
    }
}

/// The activities a world plays: a schedule held whole (a scenario file) or a random one
/// drawn as it is played, so a run's memory does not grow with its duration.
#[derive(Debug, Clone, PartialEq)]
pub enum Activities {
    /// A schedule held whole.
    Listed(Arc<[Scheduled]>),
    /// [`Schedule::random`]`(seed, duration)`, drawn by [`RandomDraw`].
    Random {
        /// The schedule's seed.
        seed: u64,
        /// The run's length, s.
        duration: f64,
    },
}

impl From<Schedule> for Activities {
    fn from(schedule: Schedule) -> Activities {
        Activities::Listed(schedule.items.into())
    }
}

impl Activities {
    /// [`Schedule::random`]`(seed, duration)`, drawn as it is played.
    pub fn random(seed: u64, duration: f64) -> Activities {
        Activities::Random { seed, duration }
    }

    /// The activities from the first, in time order.
    pub fn draw(&self) -> ActivityDraw {
        match self {
            Activities::Listed(items) => ActivityDraw::Listed(items.clone(), 0),
            Activities::Random { seed, duration } => {
                ActivityDraw::Random(Box::new(RandomDraw::new(*seed, *duration)))
            }
        }
    }

    /// The end of the last activity, s (`None`: there is none). A random schedule is drawn
    /// through for it, keeping nothing.
    pub fn last_end(&self) -> Option<f64> {
        match self {
            Activities::Listed(items) => items.last().map(|s| s.end),
            Activities::Random { .. } => self.draw().last().map(|s| s.end),
        }
    }
}

/// [`Activities`] one at a time, in time order.
#[derive(Debug, Clone)]
pub enum ActivityDraw {
    /// The next index into a listed schedule.
    Listed(Arc<[Scheduled]>, usize),
    /// A random schedule's draw (boxed: a random stream's state is a few hundred bytes).
    Random(Box<RandomDraw>),
}

impl Iterator for ActivityDraw {
    type Item = Scheduled;

    fn next(&mut self) -> Option<Scheduled> {
        match self {
            ActivityDraw::Listed(items, next) => {
                let item = items.get(*next).copied();
                *next += 1;
                item
            }
            ActivityDraw::Random(draw) => draw.next(),
        }
    }
}

/// The activity under way at a time, for [`Activities`] asked about times that mostly
/// advance (a live run's windows): drawn as the times asked advance and dropped
/// [`ActivityLookup::KEEP_S`] after they are over, so a run of any length holds only the
/// activities around the time it is at. A question further back than that draws the
/// activities again from the first; the answer for a time never depends on the order of
/// the questions.
#[derive(Debug, Clone)]
pub struct ActivityLookup {
    activities: Activities,
    draw: ActivityDraw,
    /// Drawn and kept activities, in time order.
    held: VecDeque<Scheduled>,
    /// No activity is left to draw.
    drawn_all: bool,
    /// End of the last activity dropped, s (no time before it can be answered from `held`).
    dropped_until: f64,
}

impl ActivityLookup {
    /// How long an activity over is kept after the latest time asked, s: a live run's
    /// windows of different modalities arrive a few seconds apart at most.
    pub const KEEP_S: f64 = 60.0;

    /// Looks up `activities`, none drawn yet.
    pub fn new(activities: Activities) -> ActivityLookup {
        ActivityLookup {
            draw: activities.draw(),
            activities,
            held: VecDeque::new(),
            drawn_all: false,
            dropped_until: f64::NEG_INFINITY,
        }
    }

    /// The activity under way at `t` (start inclusive, end exclusive), `None` in the
    /// idle gaps, before the first and after the last.
    pub fn at(&mut self, t: f64) -> Option<Scheduled> {
        if t < self.dropped_until {
            *self = ActivityLookup::new(self.activities.clone());
        }
        while !self.drawn_all && self.held.back().is_none_or(|s| s.end <= t) {
            match self.draw.next() {
                Some(item) => self.held.push_back(item),
                None => self.drawn_all = true,
            }
            self.drop_before(t - Self::KEEP_S);
        }
        self.drop_before(t - Self::KEEP_S);
        let i = self.held.partition_point(|s| s.end <= t);
        self.held.get(i).filter(|s| s.start <= t).copied()
    }

    /// How many activities are held now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Drops the activities over by `t`.
    fn drop_before(&mut self, t: f64) {
        while let Some(front) = self.held.front().filter(|s| s.end <= t) {
            self.dropped_until = front.end;
            self.held.pop_front();
        }
    }
}

fn parse_line(fields: &[&str]) -> Result<Scheduled, String> {
    let [start, end, name] = fields else {
        return Err(format!(
            "expected 3 fields `start_s end_s activity`, found {}",
            fields.len()
        ));
    };
    let seconds = |field: &str, text: &str| -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(format!(
                "field {field}: expected seconds (a number >= 0), found {text:?}"
            )),
        }
    };
    let start = seconds("start_s", start)?;
    let end = seconds("end_s", end)?;
    if end < start + MIN_ACTIVITY {
        return Err(format!(
            "field end_s: {end} must be at least {MIN_ACTIVITY} s after start_s {start}"
        ));
    }
    let activity = Activity::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Activity::ALL.iter().map(|a| a.name()).collect();
        format!(
            "field activity: unknown activity {name:?}; expected one of {}",
            names.join(", ")
        )
    })?;
    Ok(Scheduled {
        start,
        end,
        activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_parses_with_comments_and_blank_lines() {
        let text = "# header\n\n0.5 4.5 walking\n5\t7.5 waving # hi\n  8.0 10.5 sitting_down\n";
        let s = Schedule::parse(text).unwrap();
        assert_eq!(s.items.len(), 3);
        assert_eq!(
            s.items[1],
            Scheduled {
                start: 5.0,
                end: 7.5,
                activity: Activity::Waving
            }
        );
        assert_eq!(s.at(6.0).map(|i| i.activity), Some(Activity::Waving));
        assert_eq!(s.at(4.7), None);
        assert_eq!(s.at(0.5).map(|i| i.activity), Some(Activity::Walking));
    }

    #[test]
    fn bad_lines_are_reported_with_their_line_number_and_field() {
        let cases = [
            ("0 1 walking\n0 2 dancing\n", 2, "field activity"),
            ("\n\n1.0 x walking\n", 3, "field end_s"),
            ("-1 2 walking\n", 1, "field start_s"),
            ("0 1\n", 1, "expected 3 fields"),
            ("0 3 walking\n2 4 waving\n", 2, "overlap"),
            ("2 2.1 waving\n", 1, "at least 0.5"),
            ("0 inf waving\n", 1, "field end_s"),
        ];
        for (text, line, needle) in cases {
            let (at, reason) = Schedule::parse(text).unwrap_err();
            assert_eq!(at, line, "{text:?}: {reason}");
            assert!(reason.contains(needle), "{text:?}: {reason}");
        }
        let (_, reason) = Schedule::parse("0 1 dancing").unwrap_err();
        assert!(reason.contains("phone_call"), "lists the names: {reason}");
    }

    #[test]
    fn a_missing_file_error_names_the_file() {
        let err = Schedule::load(Path::new("/nonexistent/plan.txt")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/plan.txt"), "{err}");
    }

    #[test]
    fn random_schedules_fill_the_duration_in_order_and_repeat_per_seed() {
        let s = Schedule::random(7, 120.0);
        assert_eq!(s, Schedule::random(7, 120.0));
        assert_ne!(s, Schedule::random(8, 120.0));
        assert!(s.items.len() >= 15, "{}", s.items.len());
        for pair in s.items.windows(2) {
            assert!(pair[1].start - pair[0].end >= RANDOM_GAP.0 - 1e-9);
            assert!(
                !(pair[0].activity == Activity::EmptyRoom
                    && pair[1].activity == Activity::EmptyRoom)
            );
        }
        assert!(s.items.last().unwrap().end <= 120.0);
        let kinds: std::collections::BTreeSet<_> = s.items.iter().map(|i| i.activity).collect();
        assert!(kinds.len() >= 10, "{kinds:?}");
    }

    #[test]
    fn standing_up_follows_sitting_down_and_a_fall_leaves_time_to_get_up() {
        for seed in 0..20 {
            let s = Schedule::random(seed, 300.0);
            for pair in s.items.windows(2) {
                let sat = pair[0].activity == Activity::SittingDown;
                assert_eq!(sat, pair[1].activity == Activity::StandingUp, "seed {seed}");
                if pair[0].activity == Activity::Falling {
                    assert!(pair[1].start - pair[0].end >= GET_UP_GAP.0 - 1e-9);
                }
            }
            assert_ne!(s.items[0].activity, Activity::StandingUp);
        }
    }

    /// `Schedule::random` as it was written before the schedule was drawn one activity at
    /// a time: the reference the draw must reproduce draw for draw.
    fn random_whole(seed: u64, duration: f64) -> Schedule {
        let mut rng = seeded(Stream::Schedule, seed, 0);
        let mut items: Vec<Scheduled> = Vec::new();
        let mut t = uniform(&mut rng, RANDOM_GAP.0, RANDOM_GAP.1);
        let drawable: Vec<Activity> = Activity::ALL
            .into_iter()
            .filter(|a| *a != Activity::StandingUp)
            .collect();
        loop {
            let previous = items.last().map(|i| i.activity);
            let activity = if previous == Some(Activity::SittingDown) {
                Activity::StandingUp
            } else {
                loop {
                    let k = (uniform(&mut rng, 0.0, 1.0) * drawable.len() as f64) as usize;
                    let pick = drawable[k % drawable.len()];
                    if !(pick == Activity::EmptyRoom && previous == Some(Activity::EmptyRoom)) {
                        break pick;
                    }
                }
            };
            let (lo, hi) = typical_duration(activity);
            let end = (t + uniform(&mut rng, lo, hi)).min(duration);
            if end - t < lo {
                break;
            }
            items.push(Scheduled {
                start: t,
                end,
                activity,
            });
            let gap = match activity {
                Activity::SittingDown => SEATED_GAP,
                Activity::Falling => GET_UP_GAP,
                _ => RANDOM_GAP,
            };
            t = end + uniform(&mut rng, gap.0, gap.1);
        }
        Schedule { items }
    }

    #[test]
    fn drawn_one_at_a_time_a_random_schedule_is_the_one_held_whole() {
        for (seed, duration) in [(0, 5.0), (3, 600.0), (11, 3600.0)] {
            let whole = random_whole(seed, duration);
            assert_eq!(Schedule::random(seed, duration), whole);
            let drawn = Activities::random(seed, duration);
            assert_eq!(drawn.draw().collect::<Vec<_>>(), whole.items);
            assert_eq!(drawn.last_end(), whole.items.last().map(|s| s.end));
            let listed = Activities::from(whole.clone());
            assert_eq!(listed.draw().collect::<Vec<_>>(), whole.items);
            assert_eq!(listed.last_end(), drawn.last_end());
        }
    }

    /// The demo's lookup before [`ActivityLookup`]: every label of the run in one list,
    /// the latest-starting one covering `t`.
    fn label_in_list(items: &[Scheduled], t: f64) -> Option<Scheduled> {
        items
            .iter()
            .filter(|s| s.start <= t && t < s.end)
            .max_by(|a, b| a.start.total_cmp(&b.start))
            .copied()
    }

    #[test]
    fn the_lookup_answers_as_the_whole_list_in_and_out_of_order() {
        let (seed, duration) = (1, 86_400.0);
        let whole = Schedule::random(seed, duration).items;
        assert!(whole.len() > 10_000, "a day's schedule: {}", whole.len());
        let mut lookup = ActivityLookup::new(Activities::random(seed, duration));
        // In order, at a live run's pace (a window every 0.25 s) over the first half hour
        // and at the edges of every 16th activity over the whole day.
        let mut times: Vec<f64> = (0..7_200).map(|i| 0.25 * f64::from(i)).collect();
        for s in whole.iter().step_by(16) {
            times.extend([s.start - 1e-9, s.start, s.end - 1e-9, s.end]);
        }
        times.push(duration + 5.0);
        times.sort_by(f64::total_cmp);
        for &t in &times {
            assert_eq!(lookup.at(t), label_in_list(&whole, t), "t = {t}");
        }
        // Out of order: a little back (kept), far back (drawn again), far ahead.
        let mut rng = seeded(Stream::Schedule, 99, 0);
        let mut t = 3_600.0;
        for _ in 0..2_000 {
            t = match (uniform(&mut rng, 0.0, 1.0) * 4.0) as u32 {
                0 => t - uniform(&mut rng, 0.0, ActivityLookup::KEEP_S),
                1 => uniform(&mut rng, 0.0, duration),
                _ => t + uniform(&mut rng, 0.0, 30.0),
            }
            .max(0.0);
            assert_eq!(lookup.at(t), label_in_list(&whole, t), "t = {t}");
        }
    }

    #[test]
    fn a_day_long_lookup_holds_only_the_last_minutes() {
        let duration = 86_400.0;
        let mut lookup = ActivityLookup::new(Activities::random(1, duration));
        let mut most = 0;
        let mut labeled = 0;
        for i in 0..(duration * 4.0) as u32 {
            labeled += usize::from(lookup.at(0.25 * f64::from(i)).is_some());
            most = most.max(lookup.held());
        }
        assert!(labeled > 200_000, "labels found: {labeled}");
        // One activity lasts at least 0.5 s and a gap at least RANDOM_GAP.0: KEEP_S plus
        // one activity ahead bounds what is held.
        let bound = (ActivityLookup::KEEP_S / (MIN_ACTIVITY + RANDOM_GAP.0)) as usize + 2;
        assert!(most <= bound, "held {most} activities, bound {bound}");
        assert!(most >= 2, "held {most}");
    }

    #[test]
    fn a_run_too_short_for_any_activity_has_an_empty_schedule() {
        assert!(Schedule::random(1, 0.5).items.is_empty());
    }
}
