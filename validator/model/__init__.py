"""The model every stage shares: declarations with source spans, findings, errno names."""
