"""Call-takers' presence kept in step with their accounts.

Presence lives in Redis and changes when the call-taker acts; the account lives in SQL and
changes when an admin acts. Without this, a call-taker whose account was disabled (they left,
or were signed out for cause) would stay available and go on being offered calls, and a change
of skills would wait for their next sign-in. `reconcile` runs on every tick of `ivr worker`:

* a disabled account is logged out when free, on break or in wrap-up; one on a call
  or with a ringing offer is left alone until that ends (the next pass finds them in wrap-up or
  available, and their console can no longer act: its session ended with the account);
* a signed-in call-taker gets their account's skills for the next offer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from agents import AgentError, State
from ivr.accounts.accounts import Account
from ivr.services import Services

log = logging.getLogger("ivr.roster")

# States a call-taker may be logged out of without cutting a call or an offer short.
_LOGOUT_FROM = frozenset({State.AVAILABLE, State.ON_BREAK, State.WRAP_UP})


@dataclass(frozen=True)
class Change:
    login: str
    what: str  # "logged out" | "skills"


def reconcile(svc: Services, now: float) -> list[Change]:
    """Bring every signed-in call-taker's presence in line with their account (see above)."""
    present = {p.agent_id: p for p in svc.agents.all() if p.state != State.OFFLINE}
    if not present:
        return []
    with svc.sessions() as session:
        rows = session.execute(
            select(Account.login, Account.active, Account.skills)
            .where(Account.login.in_(present))
        ).all()
    accounts = {login: (active, frozenset(skills or ())) for login, active, skills in rows}
    changes: list[Change] = []
    for login, presence in present.items():
        if login not in accounts:
            continue  # logged in by a program (the demo's scripted floor), not by a person
        active, skills = accounts[login]
        try:
            if not active:
                if presence.state in _LOGOUT_FROM:
                    svc.agents.logout(login, now)
                    changes.append(Change(login, "logged out"))
                    log.info("call-taker %s logged out: account disabled", login)
            elif skills and skills != presence.skills:
                svc.agents.set_skills(login, skills, now)
                changes.append(Change(login, "skills"))
        except AgentError:
            # Their state moved between the read and the change (an offer arrived): the next
            # pass sees the new state.
            continue
    return changes
