//! The selection: the valid entries shuffled with the seed and split into train,
//! validation and eval, as positions into `Inspection::entries`, then cut to
//! --max-examples. With `--group-by` whole groups go to one split; with `--split-by
//! hash` each example goes where its hash unit (from the scan) says. Pure: no I/O, and
//! the examples' text is never read.

use rustc_hash::FxHashMap;

use crate::example::Split;
use crate::input::{Origin, Shape};
use crate::scan::Entry;
use crate::split::{self, Ratio, SplitBy, SplitSizes};

/// The examples of each split, as positions into `Inspection::entries`, in final order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub train: Vec<u32>,
    pub validation: Vec<u32>,
    pub eval: Vec<u32>,
    /// Valid examples left out by --max-examples.
    pub unselected: u64,
    pub kept_input_split: bool,
    /// With groups: how they were assigned.
    pub groups: Option<GroupReport>,
}

/// How whole groups were assigned (`--group-by`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GroupReport {
    /// Groups assigned to each split (before --max-examples), train, validation, eval.
    pub groups: [u64; 3],
    /// The example counts the ratios ask for (with `--split-by hash`, their expectation).
    pub targets: SplitSizes,
    /// The largest group's size, and how many groups are larger than the smallest
    /// share asked for (eval or validation).
    pub largest: u64,
    pub oversized: u64,
    pub smallest_share: u64,
}

/// What the scan learned for splitting, per entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplitKeys<'a> {
    /// The hash of each entry's group key (`--group-by`).
    pub groups: Option<&'a [u64]>,
    /// Each entry's split by its hash unit (`--split-by hash`).
    pub hash_splits: Option<&'a [Split]>,
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
    /// Re-split a pre-split input (a ratio flag, --group-by or --split-by was given).
    pub resplit: bool,
    pub max_examples: Option<u64>,
    pub split_by: SplitBy,
}

/// Shuffle and split the valid entries, then apply --max-examples.
pub fn select(
    entries: &[Entry],
    shape: Shape,
    options: &SelectOptions,
    keys: SplitKeys<'_>,
) -> Selection {
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
    } else if keys.groups.is_some() || keys.hash_splits.is_some() {
        split_by_keys(n, options, keys)
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
            groups: None,
        }
    };
    if let Some(max) = options.max_examples {
        if let Some(g) = &mut sel.groups {
            // The targets of what is kept; the group counts stay those assigned.
            g.targets = split::limit_sizes(g.targets, max);
        }
        let limited = split::limit_sizes(sel.sizes(), max);
        sel.unselected = sel.sizes().total() - limited.total();
        sel.train.truncate(limited.train as usize);
        sel.validation.truncate(limited.validation as usize);
        sel.eval.truncate(limited.eval as usize);
    }
    sel
}

/// Each entry's split from its group (whole groups, near the ratios) or its hash unit,
/// the order inside each split the seeded shuffle's.
fn split_by_keys(n: u32, options: &SelectOptions, keys: SplitKeys<'_>) -> Selection {
    let mut order: Vec<u32> = (0..n).collect();
    if options.shuffle {
        split::shuffle(&mut order, options.seed);
    }
    let targets = split::split_sizes(n as u64, options.split_ratio, options.validation_ratio);
    // Group ids in order of first appearance, so the assignment never depends on hashes.
    let mut report = None;
    let mut group_of: Vec<u32> = Vec::new();
    let mut group_split: Vec<Split> = Vec::new();
    if let Some(groups) = keys.groups {
        let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
        let mut sizes: Vec<u64> = Vec::new();
        group_of.reserve_exact(n as usize);
        for &key in groups {
            let next = sizes.len() as u32;
            let g = *ids.entry(key).or_insert(next);
            if g == next {
                sizes.push(0);
            }
            sizes[g as usize] += 1;
            group_of.push(g);
        }
        drop(ids);
        group_split = match (options.split_by, keys.hash_splits) {
            // With the hash split a group's examples share a key, so their split.
            (SplitBy::Hash, Some(splits)) => {
                let mut out = vec![Split::Train; sizes.len()];
                for (i, &g) in group_of.iter().enumerate() {
                    out[g as usize] = splits[i];
                }
                out
            }
            _ => split::assign_groups(&sizes, targets, options.seed),
        };
        let mut r = GroupReport {
            targets,
            ..GroupReport::default()
        };
        for (g, s) in group_split.iter().enumerate() {
            r.groups[*s as usize] += 1;
            r.largest = r.largest.max(sizes[g]);
        }
        r.smallest_share = [targets.train, targets.validation, targets.eval]
            .into_iter()
            .filter(|&t| t > 0)
            .min()
            .unwrap_or(0);
        if r.smallest_share > 0 {
            r.oversized = sizes.iter().filter(|&&s| s > r.smallest_share).count() as u64;
        }
        report = Some(r);
    }
    let split_of = |i: u32| -> Split {
        if !group_of.is_empty() {
            group_split[group_of[i as usize] as usize]
        } else {
            keys.hash_splits.map_or(Split::Train, |s| s[i as usize])
        }
    };
    let mut sel = Selection {
        groups: report,
        ..Selection::default()
    };
    for i in order {
        match split_of(i) {
            Split::Train => sel.train.push(i),
            Split::Validation => sel.validation.push(i),
            Split::Eval => sel.eval.push(i),
        }
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
            split_by: SplitBy::Ratio,
        }
    }

    #[test]
    fn nothing_is_lost_and_nothing_repeats() {
        let e = entries(&[Origin::Line; 37]);
        let sel = select(&e, Shape::JsonLines, &options(), SplitKeys::default());
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
        let sel = select(&e, Shape::Dataset, &options(), SplitKeys::default());
        assert!(sel.kept_input_split);
        assert_eq!(sel.train.len(), 6);
        assert!(sel.eval.iter().all(|&i| i >= 6));
        let resplit = SelectOptions {
            resplit: true,
            ..options()
        };
        let sel = select(&e, Shape::Dataset, &resplit, SplitKeys::default());
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
            SplitKeys::default(),
        );
        assert_eq!((sel.train.len(), sel.eval.len(), sel.unselected), (4, 1, 5));
    }

    #[test]
    fn groups_stay_whole_and_keep_the_shuffled_order() {
        let e = entries(&[Origin::Line; 100]);
        let groups: Vec<u64> = (0..100).map(|i| (i % 17) as u64 * 7919).collect();
        let sel = select(
            &e,
            Shape::JsonLines,
            &options(),
            SplitKeys {
                groups: Some(&groups),
                hash_splits: None,
            },
        );
        let mut all: Vec<u32> = sel.all().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        for g in 0..17u64 {
            let in_train = sel.train.iter().any(|&i| groups[i as usize] == g * 7919);
            let in_eval = sel.eval.iter().any(|&i| groups[i as usize] == g * 7919);
            assert!(!(in_train && in_eval), "group {g} straddles");
        }
        let report = sel.groups.unwrap();
        assert_eq!(report.groups.iter().sum::<u64>(), 17);
        assert_eq!(report.targets.eval, 20);
        assert!(sel.eval.len().abs_diff(20) <= 6, "{}", sel.eval.len());
        // Inside a split, the order is the seeded shuffle's.
        let mut order: Vec<u32> = (0..100).collect();
        split::shuffle(&mut order, 42);
        let train: Vec<u32> = order
            .into_iter()
            .filter(|i| sel.train.contains(i))
            .collect();
        assert_eq!(train, sel.train);
    }

    #[test]
    fn hash_splits_put_each_entry_where_its_unit_says() {
        let e = entries(&[Origin::Line; 6]);
        let splits = [
            Split::Eval,
            Split::Train,
            Split::Train,
            Split::Validation,
            Split::Eval,
            Split::Train,
        ];
        let sel = select(
            &e,
            Shape::JsonLines,
            &SelectOptions {
                split_by: SplitBy::Hash,
                ..options()
            },
            SplitKeys {
                groups: None,
                hash_splits: Some(&splits),
            },
        );
        let mut eval = sel.eval.clone();
        eval.sort_unstable();
        assert_eq!(eval, [0, 4]);
        assert_eq!(sel.validation, [3]);
        assert_eq!(sel.train.len(), 3);
    }
}
