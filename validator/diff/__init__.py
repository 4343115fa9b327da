"""Diff mode's comparison: two resolved specs, their declarations paired and every change of
value listed in the language's words. What a change breaks is for the DIFF-stage rules."""
