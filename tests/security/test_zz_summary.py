"""Runs last (file order): the corpus's one-line summary."""

from __future__ import annotations

from tests.security.harness import STATS


def test_hostile_corpus_summary(capsys):
    with capsys.disabled():
        print(
            f"\nhostile corpus: {STATS['runs']} inputs x stages run, tracebacks "
            f"{STATS['tracebacks']}, writes outside folders {STATS['outside']}"
        )
