"""Warnings and exceptions the package raises."""


class ConvergenceWarning(UserWarning):
    """A solver stopped at its iteration limit before meeting its tolerance."""


class NotFittedError(ValueError, AttributeError):
    """An NMF method that needs a fitted model was called before fit (like
    scikit-learn's exception of the same name: both a ValueError and an AttributeError)."""
