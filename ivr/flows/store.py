"""The call flows a center runs, by name and version.

A call keeps the version it started with, so lookups are always by (name, version); `live()` gives
the version a new call starts on. The flows shipped with the project are version 1.
"""

from __future__ import annotations

from importlib import resources

from callflows.model import Flow
from callflows.parse import load_flow


class FlowNotFound(LookupError):
    pass


class FlowStore:
    def __init__(self) -> None:
        self._versions: dict[tuple[str, int], Flow] = {}
        self._live: dict[str, int] = {}

    def add(self, flow: Flow, version: int, live: bool = True) -> None:
        self._versions[(flow.name, version)] = flow
        if live:
            self._live[flow.name] = version

    def get(self, name: str, version: int) -> Flow:
        try:
            return self._versions[(name, version)]
        except KeyError:
            raise FlowNotFound(f"flow {name!r} version {version} does not exist") from None

    def live(self, name: str) -> tuple[Flow, int]:
        if name not in self._live:
            raise FlowNotFound(f"flow {name!r} has no live version")
        version = self._live[name]
        return self._versions[(name, version)], version

    def names(self) -> list[str]:
        return sorted(self._live)


def shipped_flows() -> dict[str, str]:
    """File name -> YAML text of the flows that ship inside the package."""
    folder = resources.files("ivr").joinpath("flows")
    return {
        entry.name: entry.read_text("utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def load_shipped() -> FlowStore:
    store = FlowStore()
    for filename, text in shipped_flows().items():
        store.add(load_flow(text, filename), version=1)
    return store
