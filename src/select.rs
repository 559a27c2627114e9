//! The selection: the valid entries shuffled with the seed and split into train,
//! validation and eval, as positions into `Inspection::entries`, then cut to
//! --max-examples. Pure: no I/O, and the examples' text is never read.

use crate::example::Split;
use crate::input::{Origin, Shape};
use crate::scan::Entry;
use crate::split::{self, Ratio, SplitSizes};

/// The examples of each split, as positions into `Inspection::entries`, in final order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub train: Vec<u32>,
    pub validation: Vec<u32>,
    pub eval: Vec<u32>,
    /// Valid examples left out by --max-examples.
    pub unselected: u64,
    pub kept_input_split: bool,
}

impl Selection {
    pub fn split(&self, split: Split) -> &[u32] {
        match split {
            Split::Train => &self.train,
            Split::Validation => &self.validation,
            Split::Eval => &self.eval,
        }
    }

    pub fn sizes(&self) -> SplitSizes {
        SplitSizes {
            train: self.train.len() as u64,
            validation: self.validation.len() as u64,
            eval: self.eval.len() as u64,
        }
    }

    pub fn all(&self) -> impl Iterator<Item = u32> + '_ {
        self.train
            .iter()
            .chain(&self.validation)
            .chain(&self.eval)
            .copied()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SelectOptions {
    pub shuffle: bool,
    pub seed: u64,
    pub split_ratio: Ratio,
    pub validation_ratio: Ratio,
    /// Re-split a pre-split input (a ratio flag was given).
    pub resplit: bool,
    pub max_examples: Option<u64>,
}

/// Shuffle and split the valid entries, then apply --max-examples.
pub fn select(entries: &[Entry], shape: Shape, options: &SelectOptions) -> Selection {
    let n = entries.len() as u32;
    let keep_split = shape == Shape::Dataset && !options.resplit;
    let mut sel = if keep_split {
        let mut sel = Selection {
            kept_input_split: true,
            ..Default::default()
        };
        for (i, e) in entries.iter().enumerate() {
            match e.origin {
                Origin::Dataset(Split::Validation) => sel.validation.push(i as u32),
                Origin::Dataset(Split::Eval) => sel.eval.push(i as u32),
                _ => sel.train.push(i as u32),
            }
        }
        if options.shuffle {
            // One seeded stream per split, so each split's order depends only on it.
            split::shuffle_stream(&mut sel.train, options.seed, 1);
            split::shuffle_stream(&mut sel.validation, options.seed, 2);
            split::shuffle_stream(&mut sel.eval, options.seed, 3);
        }
        sel
    } else {
        let mut order: Vec<u32> = (0..n).collect();
        if options.shuffle {
            split::shuffle(&mut order, options.seed);
        }
        let sizes = split::split_sizes(n as u64, options.split_ratio, options.validation_ratio);
        let eval = order.split_off((sizes.train + sizes.validation) as usize);
        let validation = order.split_off(sizes.train as usize);
        Selection {
            train: order,
            validation,
            eval,
            unselected: 0,
            kept_input_split: false,
        }
    };
    if let Some(max) = options.max_examples {
        let limited = split::limit_sizes(sel.sizes(), max);
        sel.unselected = sel.sizes().total() - limited.total();
        sel.train.truncate(limited.train as usize);
        sel.validation.truncate(limited.validation as usize);
        sel.eval.truncate(limited.eval as usize);
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::test_entries as entries;

    fn options() -> SelectOptions {
        SelectOptions {
            shuffle: true,
            seed: 42,
            split_ratio: "0.2".parse().unwrap(),
            validation_ratio: Ratio::ZERO,
            resplit: false,
            max_examples: None,
        }
    }

    #[test]
    fn nothing_is_lost_and_nothing_repeats() {
        let e = entries(&[Origin::Line; 37]);
        let sel = select(&e, Shape::JsonLines, &options());
        let mut all: Vec<u32> = sel.all().collect();
        all.sort_unstable();
        assert_eq!(all, (0..37).collect::<Vec<_>>());
        assert_eq!(sel.eval.len(), 37 - 29);
    }

    #[test]
    fn pre_split_input_keeps_its_split_unless_asked() {
        let mut origins = vec![Origin::Dataset(Split::Train); 6];
        origins.extend([Origin::Dataset(Split::Eval); 4]);
        let e = entries(&origins);
        let sel = select(&e, Shape::Dataset, &options());
        assert!(sel.kept_input_split);
        assert_eq!(sel.train.len(), 6);
        assert!(sel.eval.iter().all(|&i| i >= 6));
        let resplit = SelectOptions {
            resplit: true,
            ..options()
        };
        let sel = select(&e, Shape::Dataset, &resplit);
        assert_eq!((sel.train.len(), sel.eval.len()), (8, 2));
    }

    #[test]
    fn max_examples_limits_proportionally() {
        let e = entries(&[Origin::Line; 10]);
        let sel = select(
            &e,
            Shape::JsonLines,
            &SelectOptions {
                max_examples: Some(5),
                ..options()
            },
        );
        assert_eq!((sel.train.len(), sel.eval.len(), sel.unselected), (4, 1, 5));
    }
}
