//! The label vocabulary of the model/dataset contract: the activity classes and the
//! ground-truth [`Label`] that names one over a span of time.
//!
//! Capture labels name these classes, dataset export numbers windows by their index, a
//! model package's `classes` list them in the same order, and inference reports them; the
//! simulator (`dagr-sim`) renders them and writes its schedule as labels. Class indices
//! are stable: a new class goes at the end.
//!
//! A crate of its own so that the gateway (`dagr-host`) and the simulator share the
//! vocabulary without either depending on the other. It must not know how an activity
//! looks to a sensor (that is the simulator's business), how windows are cut, nor how a
//! capture stores a label beyond its JSON body.
#![forbid(unsafe_code)]
use std::fmt;

mod label;

pub use label::Label;

/// What the person is doing: the label classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Activity {
    /// Nobody in the room.
    EmptyRoom,
    /// Walking along an arc.
    Walking,
    /// From standing to sitting on a chair.
    SittingDown,
    /// From sitting to standing.
    StandingUp,
    /// Falling forward to the floor and lying there.
    Falling,
    /// Waving one hand above the shoulder.
    Waving,
    /// Clapping in front of the chest.
    Clapping,
    /// Kicking forward with one leg.
    Kicking,
    /// Jumping on the spot, once or twice.
    Jumping,
    /// Bending forward from the hips and back up.
    Bending,
    /// Turning on the spot by a quarter to a half turn.
    Turning,
    /// Raising a cup to the mouth, sipping, lowering it.
    Drinking,
    /// Holding a phone to the ear.
    PhoneCall,
}

impl Activity {
    /// Every activity, in class-index order.
    pub const ALL: [Activity; 13] = [
        Activity::EmptyRoom,
        Activity::Walking,
        Activity::SittingDown,
        Activity::StandingUp,
        Activity::Falling,
        Activity::Waving,
        Activity::Clapping,
        Activity::Kicking,
        Activity::Jumping,
        Activity::Bending,
        Activity::Turning,
        Activity::Drinking,
        Activity::PhoneCall,
    ];

    /// The class name used in labels and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Activity::EmptyRoom => "empty_room",
            Activity::Walking => "walking",
            Activity::SittingDown => "sitting_down",
            Activity::StandingUp => "standing_up",
            Activity::Falling => "falling",
            Activity::Waving => "waving",
            Activity::Clapping => "clapping",
            Activity::Kicking => "kicking",
            Activity::Jumping => "jumping",
            Activity::Bending => "bending",
            Activity::Turning => "turning",
            Activity::Drinking => "drinking",
            Activity::PhoneCall => "phone_call",
        }
    }

    /// The class index (position in [`ALL`](Self::ALL)); stable across versions.
    pub fn class_index(self) -> usize {
        self as usize
    }

    /// The activity called `name`, if any.
    pub fn from_name(name: &str) -> Option<Activity> {
        Activity::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The class names, in class-index order.
pub fn class_names() -> Vec<&'static str> {
    Activity::ALL.iter().map(|a| a.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_name_maps_back_to_its_index() {
        for (index, activity) in Activity::ALL.into_iter().enumerate() {
            assert_eq!(activity.class_index(), index);
            assert_eq!(Activity::from_name(activity.name()), Some(activity));
        }
        assert_eq!(Activity::from_name("dancing"), None);
        assert_eq!(class_names()[0], "empty_room");
    }
}
