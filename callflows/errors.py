"""Errors a supervisor reads (flow problems) and the one error the app must catch (engine state).

A flow problem is a value, not an exception: the parser and the checker collect every problem in a
file so a supervisor fixes them in one pass. `FlowErrors` carries that list when a caller asked to
raise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FlowError:
    """One problem in a flow file, at a 1-based line, said in a plain sentence."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class FlowErrors(Exception):
    """A flow could not be loaded; `errors` holds every problem found, in file and line order."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class EngineError(Exception):
    """The call's state does not fit the flow (unknown node, another flow, a runaway loop).

    Never raised because of what a caller pressed or said: the app catches it and sends the caller
    to a safe default (a call-taker), because the state itself cannot be trusted any more.
    """
