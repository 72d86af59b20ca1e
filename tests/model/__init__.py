"""A reference model of the statement rules, checked against the real pipeline."""
