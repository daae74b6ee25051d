"""`tropa bench`: performance targets as ratios against references measured in the same run."""
