"""Twilio's REST API (2010-04-01) for the resources the app uses, as a WSGI app.

Served on a real port by `Emulator.serve_rest()`, so the app reaches it only through its
configured REST base URL, as it reaches Twilio. HTTP Basic auth with AccountSid:AuthToken
(401, code 20003, otherwise); unknown sids get Twilio's 404 JSON (code 20404). Resources:

    Calls.json                                   GET (To, From, ParentCallSid, Status,
                                                 StartTime, EndTime and their < >), POST
    Calls/{Sid}.json                             GET, POST (Url/Method/Twiml, Status), DELETE
    Queues.json                                  GET, POST
    Queues/{Sid}.json                            GET, POST, DELETE
    Queues/{Sid}/Members.json                    GET (the callers waiting now)
    Queues/{Sid}/Members/{CallSid|Front}.json    GET, POST (Url, Method: dequeue that member)
    Conferences.json                             GET (FriendlyName, Status, DateCreated,
                                                 DateUpdated and their < >)
    Conferences/{Sid}.json                       GET, POST (Status=completed)
    Conferences/{Sid}/Participants.json          GET (Muted, Hold), POST (add a party,
                                                 muted or coaching: `ADD_PARAMETERS`)
    Conferences/{Sid}/Participants/{CallSid}.json  GET, POST (Hold, HoldUrl, HoldMethod, Muted,
                                                 EndConferenceOnExit, Coaching,
                                                 CallSidToCoach), DELETE
    Recordings.json                              GET (DateCreated and its < >, CallSid,
                                                 ConferenceSid)
    Recordings/{Sid}.json                        GET, DELETE (`ivr.sim.recording`)
    Recordings/{Sid}[.wav]                       GET: the media (RequestedChannels 1 or 2);
                                                 .mp3 refused (not modelled)

A Participants request with a parameter the emulator does not model (announcements, recording,
beeps, early media, ...) is refused with 400, never ignored: the app must not rely on an effect
nobody tested.

Lists page as Twilio's do (`PageSize`, `Page`; `next_page_uri` keeps the filters). A list
filter the emulator does not model is refused with 400 (`ivr.sim.filters`), never ignored.
Changes take effect at the emulator's current virtual time (the lock is held meanwhile); what a
call does about them (fetching a new URL, an Enqueue action) happens when the simulation runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ivr.sim import filters
from ivr.sim import recording as rec_mod
from ivr.sim import serialize as ser
from ivr.sim.call import FINAL_STATUSES, Webhook
from ivr.sim.twiml import Conference, Dial, Document, TwimlError, parse_twiml

if TYPE_CHECKING:
    from ivr.sim.emulator import Emulator

BASE = "/2010-04-01/Accounts/<account>"

ROUTES = Map([
    Rule(f"{BASE}/Calls.json", endpoint="calls"),
    Rule(f"{BASE}/Calls/<sid>.json", endpoint="call"),
    Rule(f"{BASE}/Queues.json", endpoint="queues"),
    Rule(f"{BASE}/Recordings.json", endpoint="recordings"),
    Rule(f"{BASE}/Recordings/<name>", endpoint="recording"),
    Rule(f"{BASE}/Queues/<sid>.json", endpoint="queue"),
    Rule(f"{BASE}/Queues/<sid>/Members.json", endpoint="members"),
    Rule(f"{BASE}/Queues/<sid>/Members/<call_sid>.json", endpoint="member"),
    Rule(f"{BASE}/Conferences.json", endpoint="conferences"),
    Rule(f"{BASE}/Conferences/<sid>.json", endpoint="conference"),
    Rule(f"{BASE}/Conferences/<sid>/Participants.json", endpoint="participants"),
    Rule(f"{BASE}/Conferences/<sid>/Participants/<call_sid>.json", endpoint="participant"),
])


CALL_FILTERS = ("To", "From", "ParentCallSid", "Status", "StartTime", "StartTime>", "StartTime<",
                "EndTime", "EndTime>", "EndTime<")
ADD_PARAMETERS = frozenset({
    "From", "To", "Label", "Timeout", "Muted", "Coaching", "CallSidToCoach",
    "StartConferenceOnEnter", "EndConferenceOnExit", "WaitUrl", "StatusCallback",
    "StatusCallbackMethod", "StatusCallbackEvent", "ConferenceStatusCallback",
    "ConferenceStatusCallbackEvent", "EarlyMedia", "Beep",
})
UPDATE_PARAMETERS = frozenset({
    "Hold", "HoldUrl", "HoldMethod", "Muted", "EndConferenceOnExit", "Coaching", "CallSidToCoach",
})
# Values of modelled parameters whose effect is not emulated (no beeps, no early media).
UNMODELLED_VALUES = {"Beep": ("true", "onEnter", "onExit"), "EarlyMedia": ("true",)}
RECORDING_FILTERS = ("DateCreated", "DateCreated>", "DateCreated<", "CallSid", "ConferenceSid")
CONFERENCE_FILTERS = ("FriendlyName", "Status", "DateCreated", "DateCreated>", "DateCreated<",
                      "DateUpdated", "DateUpdated>", "DateUpdated<")


class ApiError(Exception):
    """An error answered with Twilio's JSON: status, code, message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return _json({"code": code, "message": message, "status": status,
                  "more_info": f"https://www.twilio.com/docs/errors/{code}"}, status)


def _number(values: MultiDict[str, str], name: str, default: float) -> float:
    try:
        return float(values.get(name, default))
    except ValueError:
        raise ApiError(400, 20001, f"{name} must be a number") from None


def _refuse_announcements(form: MultiDict[str, str]) -> None:
    """Announcements to a whole conference (`AnnounceUrl` on its update) are not emulated:
    refused with a 400, never silently skipped (a participant's: `_refuse_unmodelled`)."""
    for name in ("AnnounceUrl", "AnnounceMethod"):
        if name in form:
            raise ApiError(400, 20001, f"{name} is not emulated (announcements are not "
                           "modelled by this emulator)")


def _flag(form: MultiDict[str, str], name: str) -> bool | None:
    value = form.get(name)
    return None if value is None else value.lower() == "true"


class RestApp:
    """The WSGI app (see the module docstring)."""

    def __init__(self, sim: Emulator) -> None:
        self.sim = sim

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        auth = request.authorization
        sim = self.sim
        if auth is None or (auth.username, auth.password) != (sim.account_sid, sim.auth_token):
            resp = _error(401, 20003, "Authenticate")
            resp.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return resp
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
            if args.pop("account") != sim.account_sid:
                raise NotFound()
            handler = getattr(self, f"{endpoint}_{request.method.lower()}", None)
            if handler is None:
                raise MethodNotAllowed()
            with sim.lock:
                response = handler(request, **args)
            sim.rest_answered(endpoint, request.method)
            return response
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        except filters.FilterError as exc:
            return _error(400, 20001, str(exc))
        except NotFound:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        except HTTPException as exc:
            return _error(exc.code or 500, 20004 if exc.code == 405 else 20000, exc.name)

    # --- helpers -----------------------------------------------------------------------------

    def _call(self, sid: str) -> Any:
        call = self.sim.calls.get(sid)
        if call is None:
            raise NotFound()
        return call

    def _queue(self, sid: str) -> Any:
        q = self.sim.queues.by_sid.get(sid)
        if q is None:
            raise NotFound()
        return q

    def _conference(self, sid: str) -> Any:
        conf = self.sim.conferences.by_sid.get(sid) or self.sim.conferences.active.get(sid)
        if conf is None:
            raise NotFound()
        return conf

    def _page(self, request: Request, key: str, items: list[Any]) -> Response:
        size = max(1, min(int(_number(request.args, "PageSize", 50)), 1000))
        page = max(0, int(_number(request.args, "Page", 0)))
        chunk = items[page * size:(page + 1) * size]
        path = request.path
        kept = [(k, v) for k, v in request.args.items(multi=True) if k not in filters.PAGING]
        query = "".join(f"&{quote(k)}={quote(v)}" for k, v in kept)

        def uri(n: int) -> str:
            return f"{path}?PageSize={size}&Page={n}{query}"

        more = (page + 1) * size < len(items)
        return _json({
            key: chunk, "start": page * size, "end": page * size + max(len(chunk) - 1, 0),
            "page": page, "page_size": size, "uri": uri(page), "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
        })

    def _twiml(self, request: Request) -> Document | None:
        text = request.form.get("Twiml")
        if text is None:
            return None
        try:
            return parse_twiml(text)
        except TwimlError as exc:
            raise ApiError(400, 12100, f"Twiml is not valid: {exc}") from exc

    # --- calls ---------------------------------------------------------------------------------

    def calls_get(self, request: Request) -> Response:
        sim, args = self.sim, request.args
        filters.refuse_unknown(args, CALL_FILTERS, "Calls.json")
        status = filters.one_of(args, "Status", filters.CALL_STATUSES)
        started, ended = filters.window(args, "StartTime"), filters.window(args, "EndTime")
        at = sim.clock.at
        calls = [c for c in reversed(sim.calls.values())
                 if (not args.get("To") or c.to == args["To"])
                 and (not args.get("From") or c.from_ == args["From"])
                 and (status is None or c.status == status)
                 and (not args.get("ParentCallSid") or c.parent_sid == args["ParentCallSid"])
                 # start_time as serialized: answered, else created (ser.call)
                 and (started is None or started.holds(at(c.answered_t or c.created_t)))
                 and (ended is None or ended.holds(None if c.ended_t is None else at(c.ended_t)))]
        return self._page(request, "calls", [ser.call(sim, c) for c in calls])

    def calls_post(self, request: Request) -> Response:
        form, sim = request.form, self.sim
        to, from_ = form.get("To"), form.get("From")
        if not to:
            raise ApiError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise ApiError(400, 21213, "No 'From' number is specified")
        twiml = self._twiml(request)
        url = form.get("Url")
        if twiml is None and not url:
            raise ApiError(400, 21205, "Url parameter is required")
        events = tuple(e for v in form.getlist("StatusCallbackEvent") for e in v.split())
        hook = Webhook(
            url, form.get("Method", "POST").upper(), form.get("FallbackUrl"),
            form.get("FallbackMethod", "POST").upper(), form.get("StatusCallback"),
            form.get("StatusCallbackMethod", "POST").upper(), events or ("completed",),
        )
        call = sim.create_call(to, from_, hook, twiml=twiml,
                               timeout=_number(form, "Timeout", 60))
        return _json(ser.call(sim, call), 201)

    def call_get(self, request: Request, sid: str) -> Response:
        return _json(ser.call(self.sim, self._call(sid)))

    def call_post(self, request: Request, sid: str) -> Response:
        sim, form = self.sim, request.form
        call = self._call(sid)
        twiml = self._twiml(request)
        if twiml is not None or form.get("Url"):
            if call.status != "in-progress":
                raise ApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
            sim.redirect(call, form.get("Url"), form.get("Method", "POST").upper(), twiml)
        status = form.get("Status")
        if status not in (None, "completed", "canceled"):
            raise ApiError(400, 20001, f"Status must be completed or canceled, not {status!r}")
        # "completed" ends a call in any live state; "canceled" only one not yet answered.
        live = call.status not in FINAL_STATUSES
        if (status == "completed" and live) or (status == "canceled" and call.status in (
                "queued", "ringing")):
            sim.hangup(call, by="api")
        return _json(ser.call(sim, call))

    def call_delete(self, request: Request, sid: str) -> Response:
        call = self._call(sid)
        if call.status not in FINAL_STATUSES:
            raise ApiError(400, 20009, "Cannot delete a call that is not over")
        del self.sim.calls[sid]
        return Response(status=204)

    # --- recordings ----------------------------------------------------------------------------

    def _recording(self, name: str) -> tuple[Any, str]:
        sid, dot, ext = name.partition(".")
        rec = self.sim.recordings.by_sid.get(sid)
        if rec is None:
            raise NotFound()
        return rec, ext if dot else ""

    def recordings_get(self, request: Request) -> Response:
        sim, args = self.sim, request.args
        filters.refuse_unknown(args, RECORDING_FILTERS, "Recordings.json")
        created = filters.window(args, "DateCreated")
        recs = [r for r in reversed(sim.recordings.by_sid.values())
                if (not args.get("ConferenceSid") or r.conference_sid == args["ConferenceSid"])
                and not args.get("CallSid")  # conference recordings have no call
                and (created is None or created.holds(sim.clock.at(r.start_t)))]
        return self._page(request, "recordings", [rec_mod.resource(sim, r) for r in recs])

    def recording_get(self, request: Request, name: str) -> Response:
        rec, ext = self._recording(name)
        if ext == "json":
            return _json(rec_mod.resource(self.sim, rec))
        if ext not in ("", "wav"):
            raise ApiError(400, 20001, f"the emulator serves recordings as WAV only, not .{ext}")
        if rec.status != "completed":
            raise NotFound()  # Twilio has no media before the recording is processed
        channels = int(_number(request.args, "RequestedChannels", 1))
        if channels not in (1, 2) or channels > rec.channels:
            raise ApiError(400, 20001, f"RequestedChannels must be 1 or {rec.channels}")
        body = rec_mod.wav(rec.duration(self.sim.clock.elapsed), channels)
        return Response(body, 200, content_type="audio/x-wav")

    def recording_delete(self, request: Request, name: str) -> Response:
        rec, ext = self._recording(name)
        if ext != "json":
            raise MethodNotAllowed()
        if rec.status == "in-progress":
            raise ApiError(400, 20009, "Cannot delete a recording that is in progress")
        self.sim.recordings.delete(rec.sid)
        return Response(status=204)

    # --- queues --------------------------------------------------------------------------------

    def queues_get(self, request: Request) -> Response:
        sim = self.sim
        filters.refuse_unknown(request.args, (), "Queues.json")
        return self._page(request, "queues",
                          [ser.queue(sim, q) for q in sim.queues.by_sid.values()])

    def queues_post(self, request: Request) -> Response:
        name = request.form.get("FriendlyName")
        if not name:
            raise ApiError(400, 20001, "Missing required parameter FriendlyName")
        if name in self.sim.queues.by_name:
            raise ApiError(400, 22003, f"A queue named {name!r} already exists")
        q = self.sim.queues.create(name, self._max_size(request, 1000))
        return _json(ser.queue(self.sim, q), 201)

    def _max_size(self, request: Request, default: int) -> int:
        size = int(_number(request.form, "MaxSize", default))
        if not 1 <= size <= 5000:
            raise ApiError(400, 20001, "MaxSize must be between 1 and 5000")
        return size

    def queue_get(self, request: Request, sid: str) -> Response:
        return _json(ser.queue(self.sim, self._queue(sid)))

    def queue_post(self, request: Request, sid: str) -> Response:
        q = self._queue(sid)
        if request.form.get("FriendlyName"):
            del self.sim.queues.by_name[q.friendly_name]
            q.friendly_name = request.form["FriendlyName"]
            self.sim.queues.by_name[q.friendly_name] = q
        q.max_size = self._max_size(request, q.max_size)
        q.updated_t = self.sim.clock.elapsed
        return _json(ser.queue(self.sim, q))

    def queue_delete(self, request: Request, sid: str) -> Response:
        q = self._queue(sid)
        if len(q):
            raise ApiError(400, 20009, "Cannot delete a queue that has members")
        del self.sim.queues.by_sid[sid]
        self.sim.queues.by_name.pop(q.friendly_name, None)
        return Response(status=204)

    def members_get(self, request: Request, sid: str) -> Response:
        filters.refuse_unknown(request.args, (), "Members.json")
        q = self._queue(sid)
        return self._page(request, "queue_members", [ser.member(self.sim, m) for m in q.members()])

    def _member(self, sid: str, call_sid: str) -> Any:
        q = self._queue(sid)
        member = q.front() if call_sid == "Front" else q.member(call_sid)
        if member is None:
            raise NotFound()
        return member

    def member_get(self, request: Request, sid: str, call_sid: str) -> Response:
        return _json(ser.member(self.sim, self._member(sid, call_sid)))

    def member_post(self, request: Request, sid: str, call_sid: str) -> Response:
        member = self._member(sid, call_sid)
        url = request.form.get("Url")
        if not url:
            raise ApiError(400, 21205, "Url parameter is required")
        body = ser.member(self.sim, member)
        self.sim.queues.redirect_member(member, url, request.form.get("Method", "POST").upper())
        return _json(body)

    # --- conferences ---------------------------------------------------------------------------

    def conferences_get(self, request: Request) -> Response:
        sim, args = self.sim, request.args
        filters.refuse_unknown(args, CONFERENCE_FILTERS, "Conferences.json")
        status = filters.one_of(args, "Status", filters.CONFERENCE_STATUSES)
        created, updated = filters.window(args, "DateCreated"), filters.window(args, "DateUpdated")
        at = sim.clock.at
        confs = [c for c in reversed(sim.conferences.by_sid.values())
                 if (not args.get("FriendlyName") or c.friendly_name == args["FriendlyName"])
                 and (status is None or c.status == status)
                 and (created is None or created.holds(at(c.created_t)))
                 and (updated is None or updated.holds(at(c.updated_t)))]
        return self._page(request, "conferences", [ser.conference(sim, c) for c in confs])

    def conference_get(self, request: Request, sid: str) -> Response:
        return _json(ser.conference(self.sim, self._conference(sid)))

    def conference_post(self, request: Request, sid: str) -> Response:
        _refuse_announcements(request.form)
        conf = self._conference(sid)
        if request.form.get("Status") == "completed":
            conf.end("conference-ended-via-api")
        return _json(ser.conference(self.sim, conf))

    def participants_get(self, request: Request, sid: str) -> Response:
        filters.refuse_unknown(request.args, ("Muted", "Hold"), "Participants.json")
        muted, hold = filters.flag(request.args, "Muted"), filters.flag(request.args, "Hold")
        conf = self._conference(sid)
        return self._page(request, "participants", [
            ser.participant(self.sim, p) for p in conf.participants.values()
            if (muted is None or p.muted == muted) and (hold is None or p.hold == hold)])

    def participants_post(self, request: Request, sid: str) -> Response:
        """Add a party: ring `To`; once answered it joins the conference (no TwiML of its own),
        muted or coaching the participant `CallSidToCoach` if asked."""
        sim, form = self.sim, request.form
        _refuse_unmodelled(form, ADD_PARAMETERS, "Participants.json")
        conf = sim.conferences.by_sid.get(sid) or sim.conferences.get_or_create(sid)
        coach = _coached(form, None)
        if coach is not None and coach not in conf.participants:
            raise ApiError(400, 20001, f"CallSidToCoach {coach} is not in this conference")
        label = form.get("Label") or None
        if label is not None and any(p.label == label for p in conf.participants.values()):
            raise ApiError(400, 20001, f"A participant labelled {label!r} is already in the "
                           "conference")
        to, from_ = form.get("To"), form.get("From")
        if not to:
            raise ApiError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise ApiError(400, 21213, "No 'From' number is specified")
        noun = Conference(
            conf.friendly_name, muted=_flag(form, "Muted") or False,
            start_conference_on_enter=_flag(form, "StartConferenceOnEnter") is not False,
            end_conference_on_exit=_flag(form, "EndConferenceOnExit") or False,
            wait_url=form.get("WaitUrl"), status_callback=form.get("ConferenceStatusCallback"),
            status_callback_event=tuple(
                e for v in form.getlist("ConferenceStatusCallbackEvent") for e in v.split()),
            coach=coach,
            label=label,
        )
        for name in ("Record", "ConferenceRecord", "RecordingChannels", "Trim",
                     "ConferenceTrim", "RecordingStatusCallback",
                     "ConferenceRecordingStatusCallback"):
            if form.get(name) not in (None, "false", "do-not-record"):
                raise ApiError(400, 20001, f"the emulator does not model {name} on a participant;"
                               " record the conference with <Conference record>")
        events = tuple(e for v in form.getlist("StatusCallbackEvent") for e in v.split())
        hook = Webhook(status_callback=form.get("StatusCallback"),
                       status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
                       status_callback_events=events or ("completed",))
        call = sim.create_call(to, from_, hook, twiml=Document((Dial((noun,)),)),
                               timeout=_number(form, "Timeout", 60))
        body = ser.pending_participant(sim, conf, call, noun)
        body["label"] = label
        return _json(body, 201)

    def _participant(self, sid: str, call_sid: str) -> Any:
        """A participant by its CallSid or its `Label` (Twilio: "The Call SID or label of the
        participant")."""
        conf = self._conference(sid)
        p = conf.participants.get(call_sid) or next(
            (p for p in conf.participants.values() if p.label == call_sid), None)
        if p is None:
            raise NotFound()
        return p

    def participant_get(self, request: Request, sid: str, call_sid: str) -> Response:
        return _json(ser.participant(self.sim, self._participant(sid, call_sid)))

    def participant_post(self, request: Request, sid: str, call_sid: str) -> Response:
        p = self._participant(sid, call_sid)
        form = request.form
        _refuse_unmodelled(form, UPDATE_PARAMETERS, "Participants/{CallSid}.json")
        coaching_asked = "Coaching" in form or "CallSidToCoach" in form
        coach = _coached(form, p.call_sid_to_coach)
        if coach is not None and (coach == call_sid or coach not in p.conference.participants):
            raise ApiError(400, 20001, f"CallSidToCoach {coach} is not another participant "
                           "of this conference")
        end_on_exit = _flag(form, "EndConferenceOnExit")
        if end_on_exit is not None and end_on_exit != p.end_conference_on_exit:
            hold = _flag(form, "Hold")
            if p.hold if hold is None else hold:
                # TWILIO.md's known failure: the flag cannot change while the participant
                # is (or is being put) on hold.
                raise ApiError(400, 20001, "EndConferenceOnExit cannot be changed while the "
                               "participant is on hold")
            p.end_conference_on_exit = end_on_exit
            p.call.log("end_conference_on_exit", value=end_on_exit)
            p.conference.modified(p)
        if form.get("HoldUrl"):
            p.call.log("hold_music", url=form["HoldUrl"])
        # One request is one change (nobody hears a state in between); the events come in
        # the order that never lets the others hear more than before or after: a mute first,
        # an unmute after the coaching changed.
        muted = _flag(form, "Muted")
        if coaching_asked and muted is not True:
            p.conference.set_coaching(p, coach)
        p.conference.set_flags(p, _flag(form, "Hold"), muted, form.get("HoldUrl"),
                               form.get("HoldMethod", "GET").upper())
        if coaching_asked and muted is True:
            p.conference.set_coaching(p, coach)
        return _json(ser.participant(self.sim, p))

    def participant_delete(self, request: Request, sid: str, call_sid: str) -> Response:
        p = self._participant(sid, call_sid)
        p.conference.remove(p, kick=True)
        return Response(status=204)



def _refuse_unmodelled(form: MultiDict[str, str], known: frozenset[str], what: str) -> None:
    """400 for a parameter (or a value) whose effect the emulator does not model."""
    unknown = sorted(set(form) - known)
    if unknown:
        raise ApiError(400, 20001, f"{what}: {', '.join(unknown)} not emulated")
    for name, values in UNMODELLED_VALUES.items():
        if form.get(name) in values:
            raise ApiError(400, 20001, f"{what}: {name}={form[name]} not emulated")


def _coached(form: MultiDict[str, str], current: str | None) -> str | None:
    """Whom the participant coaches after this request: `CallSidToCoach` alone implies
    coaching; `Coaching=true` needs a CallSidToCoach (given or already set); `Coaching=false`
    ends it (Twilio's participant docs)."""
    coaching, target = _flag(form, "Coaching"), form.get("CallSidToCoach") or None
    if coaching is False:
        return None
    target = target or current
    if coaching and target is None:
        raise ApiError(400, 20001, "Coaching=true needs CallSidToCoach")
    return target
