//! How well predictions match a capture's labels: accuracy, per-class recall and the
//! confusion matrix, as `dagr replay --model` prints them on standard error.
//!
//! Only windows with a label count; a window whose label the model does not know is
//! counted apart (it cannot be right, and hiding it would flatter the figure).
use std::fmt;
use std::sync::Arc;

use super::Prediction;

/// Running confusion counts over labeled predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    classes: Arc<[Arc<str>]>,
    /// `confusion[true][predicted]`.
    confusion: Vec<Vec<u64>>,
    /// Windows without a label.
    unlabeled: u64,
    /// Windows labeled with a class the model does not have.
    unknown_label: u64,
}

impl Tally {
    /// An empty tally over `classes` (the model's, in order).
    pub fn new(classes: Arc<[Arc<str>]>) -> Self {
        let k = classes.len();
        Tally {
            classes,
            confusion: vec![vec![0; k]; k],
            unlabeled: 0,
            unknown_label: 0,
        }
    }

    /// Counts one prediction.
    pub fn add(&mut self, p: &Prediction) {
        let Some(label) = &p.label else {
            self.unlabeled += 1;
            return;
        };
        let index = |name: &str| self.classes.iter().position(|c| &**c == name);
        match (index(label), index(&p.class)) {
            (Some(t), Some(q)) => self.confusion[t][q] += 1,
            _ => self.unknown_label += 1,
        }
    }

    /// Labeled windows of a known class.
    pub fn scored(&self) -> u64 {
        self.confusion.iter().flatten().sum()
    }

    /// Right predictions over scored windows (`None` before any).
    pub fn accuracy(&self) -> Option<f64> {
        let right: u64 = (0..self.classes.len()).map(|i| self.confusion[i][i]).sum();
        let n = self.scored();
        (n > 0).then(|| right as f64 / n as f64)
    }

    /// Per class: (name, windows labeled with it, recall or `None` when it has none).
    pub fn recalls(&self) -> Vec<(Arc<str>, u64, Option<f64>)> {
        self.classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let n: u64 = self.confusion[i].iter().sum();
                let recall = (n > 0).then(|| self.confusion[i][i] as f64 / n as f64);
                (c.clone(), n, recall)
            })
            .collect()
    }

    /// `confusion[true][predicted]`, rows and columns in class order.
    pub fn confusion(&self) -> &[Vec<u64>] {
        &self.confusion
    }

    /// Windows without a label.
    pub fn unlabeled(&self) -> u64 {
        self.unlabeled
    }

    /// Windows labeled with a class the model does not know.
    pub fn unknown_label(&self) -> u64 {
        self.unknown_label
    }
}

/// The summary as text: accuracy, per-class recall, the confusion matrix (rows true,
/// columns predicted, classes numbered as in the recall list).
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.accuracy() {
            Some(a) => writeln!(
                f,
                "accuracy {:.3} over {} labeled windows ({} unlabeled, {} with a class the \
                 model lacks)",
                a,
                self.scored(),
                self.unlabeled,
                self.unknown_label
            )?,
            None => {
                return writeln!(
                    f,
                    "no labeled window to score ({} unlabeled)",
                    self.unlabeled
                )
            }
        }
        writeln!(f, "recall per class:")?;
        for (i, (class, n, recall)) in self.recalls().iter().enumerate() {
            let recall = recall.map_or_else(|| "    -".to_string(), |r| format!("{r:.3}"));
            writeln!(f, "  {i:>2} {class:<13} {recall}  (n {n})")?;
        }
        writeln!(f, "confusion (rows true, columns predicted):")?;
        write!(f, "   ")?;
        for i in 0..self.classes.len() {
            write!(f, " {i:>4}")?;
        }
        writeln!(f)?;
        for (i, row) in self.confusion.iter().enumerate() {
            write!(f, "{i:>3}")?;
            for n in row {
                write!(f, " {n:>4}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn predicted(classes: &Arc<[Arc<str>]>, class: usize, label: Option<&str>) -> Prediction {
        Prediction {
            t: 0.0,
            start: 0.0,
            class: classes[class].clone(),
            score: 1.0,
            probs: vec![0.0; classes.len()],
            classes: classes.clone(),
            present: [true; 3],
            set_aside: [false; 3],
            label: label.map(Arc::from),
            head: 0,
        }
    }

    #[test]
    fn accuracy_recall_and_confusion_count_only_labeled_known_windows() {
        let classes: Arc<[Arc<str>]> = ["a", "b", "c"].map(Arc::from).into();
        let mut tally = Tally::new(classes.clone());
        for (class, label) in [
            (0, Some("a")),
            (0, Some("a")),
            (1, Some("a")),
            (1, Some("b")),
            (2, None),
            (2, Some("zzz")),
        ] {
            tally.add(&predicted(&classes, class, label));
        }
        assert_eq!(tally.scored(), 4);
        assert_eq!(tally.accuracy(), Some(0.75));
        assert_eq!((tally.unlabeled(), tally.unknown_label()), (1, 1));
        assert_eq!(tally.confusion()[0], vec![2, 1, 0]);
        let recalls: Vec<Option<f64>> = tally.recalls().into_iter().map(|r| r.2).collect();
        assert_eq!(recalls, vec![Some(2.0 / 3.0), Some(1.0), None]);
        let text = tally.to_string();
        assert!(
            text.starts_with("accuracy 0.750 over 4 labeled windows"),
            "{text}"
        );
        assert!(text.contains("   2 c                 -  (n 0)"), "{text}");
    }
}
