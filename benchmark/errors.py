"""Errors a user can act on: each says what was wrong, where, and what would be right."""

from __future__ import annotations

from dataclasses import dataclass


class BenchError(Exception):
    """Base of the errors bench reports as one clear message, without a traceback."""

    exit_code = 1


class UsageError(BenchError):
    """The user asked for something that cannot work (config, plugin name, data location)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an experiment file: where it is and what to do about it."""

    message: str
    key: str = ""
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        prefix = ": ".join(part for part in (where, self.key) if part)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigError(UsageError):
    """One or more problems in an experiment's configuration."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DataError(UsageError):
    """A data set cannot be found or read, or cannot be split as asked."""


class RunError(BenchError):
    """A run failed for a reason that is not the user's configuration."""
