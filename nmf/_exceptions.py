"""Warnings the package emits."""


class ConvergenceWarning(UserWarning):
    """A solver stopped at its iteration limit before meeting its tolerance."""
