"""The settings of the floor's engines, read from config as the lower packages want them: the
queue classes of ``queues:`` (`queues.QueueClass`) and the routing rules of ``agents:``
(`agents.model.Rules`). Every process that opens the queues or the agents reads them here."""

from __future__ import annotations

from agents.model import Rules
from ivr.platform.config import Settings
from queues import QueueClass


def queue_classes(settings: Settings) -> list[QueueClass]:
    """The queue classes of `queues:` in config, as the queues package wants them."""
    out = []
    for name, spec in (settings.raw.get("queues") or {}).items():
        spec = spec or {}
        out.append(QueueClass(
            name=str(name), rank=int(spec.get("rank", 10)),
            max_size=spec.get("max_size"), max_wait=spec.get("max_wait"),
            aging_seconds=spec.get("aging_seconds"),
            aging_max_levels=int(spec.get("aging_max_levels", 0)),
            target_answer_seconds=spec.get("target_answer"),
            default_handle_seconds=float(spec.get("default_handle", 180)),
        ))
    return out


def agent_rules(settings: Settings) -> Rules:
    """The routing rules of `agents:` in config (offer timeout, wrap-up, class skills ...)."""
    spec = dict(settings.raw.get("agents") or {})
    class_skills = {name: frozenset(skills) for name, skills
                    in (spec.pop("class_skills", None) or {}).items()}
    return Rules(class_skills=class_skills, **spec)
