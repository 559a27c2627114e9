//! Regression tests, one per fixed bug, each named for its issue
//! (`issue_123_split_ratio_loses_an_example`) and citing it in a comment, so a failure
//! points at the discussion that explains the rule. Empty until the first fix lands.
