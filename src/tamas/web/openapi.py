"""The HTTP API described as an OpenAPI 3.1 document, and the route that serves it.

:func:`openapi_document` builds the document from data: small named schemas
(``components/schemas``), one operation per method and path. Enumerations come from the
code's own enums and constants (agent states, report names, page limits...), so they cannot
drift from what the routes answer; shapes and status codes were written from each route's
code (``tamas.web.*``). ``tests/integration/test_openapi.py`` checks the document against the
OpenAPI 3.1 meta-schema, compares its paths with the routes ``tamas serve`` mounts, and runs
schemathesis against a served center.

OpenAPI has no WebSocket: ``/api/v1/realtime/ws`` is described in the document's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.acd.agent_state import AgentState
from tamas.media.recording import RecordingState
from tamas.reporting.live import LiveState
from tamas.reporting.query import INTERVALS, Group
from tamas.reporting.table import Kind
from tamas.runtime.b2bua import CallState
from tamas.runtime.reportservice import FORMATS, REPORTS
from tamas.store import contacts as store_contacts
from tamas.store import recordings as store_recordings
from tamas.store import voicemail as store_voicemail
from tamas.store.records import CallDirection, RecordingLayout, RecordingStatus

__all__ = ["OPENAPI_PATH", "openapi_document", "openapi_routes"]

OPENAPI_PATH: Final = "/api/v1/openapi.json"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Schema = dict[str, Any]

_DESCRIPTION: Final = """\
Tamas's HTTP JSON API (docs/api.md). Errors are `{"error": "<code>", "message": "<text>"}`
(400 `invalid` adds `"field"`). Everything under `/api/v1` except the status endpoints and
this document is answered to loopback clients, or to any client with
`Authorization: Bearer <server.api_token>` (403 `forbidden` without a token configured,
401 `unauthorized` with a missing or wrong one).

**WebSocket** `GET /api/v1/realtime/ws` (not expressible in OpenAPI): the same guard (a
refused client is closed with code 1008); on connect, and whenever an event changes the
board (at most every 0.5 s) and at least every 5 s, the server sends a text message holding
the `RealtimeBoard` JSON of `GET /api/v1/realtime`. What the client sends is ignored.
"""


# -- building blocks ------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: Schema) -> Schema:
    """``schema`` or null (a ``$ref`` is wrapped; a plain type gets ``"null"`` added)."""
    if "type" in schema and isinstance(schema["type"], str) and "$ref" not in schema:
        out = dict(schema, type=[schema["type"], "null"])
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None,
         *, closed: bool = False, description: str = "") -> Schema:  # fmt: skip
    out: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    return out


def _enum(values: Iterable[object]) -> Schema:
    return {"type": "string", "enum": [str(v) for v in values]}


def _values(enum: Iterable[Any]) -> list[str]:
    return [str(member.value) for member in enum]


STR: Final[Schema] = {"type": "string"}
NUM: Final[Schema] = {"type": "number"}
INT: Final[Schema] = {"type": "integer"}
TIME: Final[Schema] = {"type": "number", "description": "epoch seconds"}
VALUE: Final[Schema] = {"type": ["null", "boolean", "number", "string"]}


#: The staffing inputs and the values they accept (``sl`` is the target service level).
_STAFFING: Final[dict[str, Schema]] = {
    "calls": {"minimum": 0}, "aht": {"exclusiveMinimum": 0},
    "interval": {"exclusiveMinimum": 0, "default": 1800},
    "sl": {"exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.8},
    "threshold": {"minimum": 0, "default": 20}, "patience": {"exclusiveMinimum": 0},
    "max_occupancy": {"minimum": 0.05, "maximum": 1},
    "shrinkage": {"minimum": 0, "exclusiveMaximum": 1, "default": 0}, "start": {},
}  # fmt: skip


def _schemas() -> dict[str, Schema]:
    contact_fields: dict[str, Schema] = {
        "name": {"type": "string", "maxLength": 200},
        "code": _null({"type": "string", "maxLength": 64}),
        "numbers": {"type": "array", "maxItems": 20, "items": STR},
        "email": _null({"type": "string", "maxLength": 254}),
        "language": _null(_enum(store_contacts.LANGUAGES)),
        "notes": {"type": "string", "maxLength": 10000},
    }
    staffing_fields = {k: {"type": "number", **bounds} for k, bounds in _STAFFING.items()}
    recording_row = {
        "id": STR, "call_id": STR, "state": _enum(["stopped"]),
        "status": _enum(_values(RecordingStatus)), "error": STR, "path": STR,
        "layout": _enum(_values(RecordingLayout)), "channels": INT, "rate": INT,
        "started_at": TIME, "duration": NUM,
        "paused_spans": {"type": "array", "items": _obj({"start": NUM, "end": NUM})},
        "caller": _ref("PacketCount"), "agent": _ref("PacketCount"), "audio": STR,
    }  # fmt: skip
    page = {"limit": INT, "offset": INT, "next_offset": _null(INT)}
    return {
        "Error": _obj({"error": STR, "message": STR}, {"field": STR},
                      description="`field` names the parameter or body field not accepted"),
        "Health": _obj({"status": _enum(["ok"]), "version": STR}),
        "Registration": _obj({"contact": STR, "transport": STR, "source": STR,
                              "expires_in": INT, "user_agent": STR}),
        "Registrations": _obj({"registrations": {
            "type": "object", "additionalProperties": {"type": "array",
                                                       "items": _ref("Registration")}}}),
        "ActiveCall": _obj({
            "id": STR, "state": _enum(_values(CallState)), "caller": _null(STR),
            "callee": _null(STR), "direction": _null(_enum(_values(CallDirection))),
            "started_at": _null(TIME), "answered_at": _null(TIME)}),
        "Calls": _obj({"calls": {"type": "array", "items": _ref("ActiveCall")}}),
        "Trunks": _obj({"trunks": {"type": "object", "additionalProperties":
                                   _enum(["unregistered", "registered", "failed"])}}),
        "RecordingAction": _obj({"action": _enum(["start", "pause", "resume", "stop"])}),
        "PacketCount": _obj({"packets": INT, "late": INT}),
        "ActiveRecording": _obj({
            "id": STR, "call_id": STR, "state": _enum(_values(RecordingState)), "path": STR,
            "layout": _enum(_values(RecordingLayout)), "started_at": TIME}),
        "Recording": _obj(recording_row),
        "RecordingEnvelope": _obj({"recording": {"anyOf": [_ref("Recording"),
                                                           _ref("ActiveRecording")]}}),
        "RecordingPage": _obj({"recordings": {"type": "array", "items": _ref("Recording")},
                               **page}),
        "Message": _obj({
            "id": STR, "box": STR, "caller": STR, "call_id": STR, "at": TIME, "duration": NUM,
            "status": _enum(_values(store_voicemail.MessageStatus)),
            "assigned_to": _null(STR), "audio": STR}),
        "MessageEnvelope": _obj({"message": _ref("Message")}),
        "MessagePage": _obj({"messages": {"type": "array", "items": _ref("Message")}, **page}),
        "Assignment": _obj({"agent": _null({"type": "string", "minLength": 1,
                                            "maxLength": 128})}),
        "Contact": _obj({
            "id": STR, "name": STR, "code": _null(STR), "numbers": {"type": "array",
                                                                 "items": STR},
            "email": _null(STR), "language": _null(_enum(store_contacts.LANGUAGES)),
            "notes": STR, "source": _enum(_values(store_contacts.ContactSource)),
            "created_at": TIME, "updated_at": TIME}),
        "NewContact": _obj({}, {**contact_fields, "source": _enum(["api", "import"])},
                           closed=True),
        "ContactChange": _obj({}, contact_fields, closed=True,
                              description="the fields to change; `numbers` replaces the list"),
        "ContactEnvelope": _obj({"contact": _ref("Contact")}),
        "ContactPage": _obj({"contacts": {"type": "array", "items": _ref("Contact")}, **page}),
        "Agent": _obj({
            "id": STR, "name": STR, "state": _enum(_values(AgentState)), "device": _null(STR),
            "queues": {"type": "object", "additionalProperties": INT,
                       "description": "queue served -> penalty"}}),
        "Agents": _obj({"agents": {"type": "array", "items": _ref("Agent")}}),
        "Login": _obj({}, {"device": STR}, description="default: the agent's extension"),
        "Pause": _obj({}, {"reason": STR}),
        "Queue": _obj({"name": STR, "waiting": INT, "calls": {"type": "array", "items": STR},
                       "estimated_wait": NUM}),
        "Queues": _obj({"queues": {"type": "array", "items": _ref("Queue")}}),
        "Callback": _obj({
            "id": STR, "queue": STR, "number": STR,
            "state": _enum(["scheduled", "waiting", "ringing", "retry-wait"]),
            "at": _null(TIME), "position": _null(INT), "attempts": INT, "agent": _null(STR)}),
        "NewCallback": _obj({"queue": STR, "number": STR}, {"at": {
            "type": ["number", "string", "null"],
            "description": "epoch seconds or ISO 8601 (UTC unless it has an offset); "
                           "missing, null or past: now"}}),
        "CallbackEnvelope": _obj({"callback": _ref("Callback")}),
        "Callbacks": _obj({"callbacks": {"type": "array", "items": _ref("Callback")}}),
        "FlowSummary": _obj(
            {"name": STR, "source": _enum(["yaml", "database"]), "updated_at": _null(TIME),
             "updated_by": _null(STR), "in_yaml": {"type": "boolean"}},
            {"error": STR}),
        "Flows": _obj({"flows": {"type": "array", "items": _ref("FlowSummary")}}),
        "Flow": {"allOf": [_ref("FlowSummary"), _obj(
            {"definition": {"type": "object",
                            "description": "the flow, as under ivr: in the YAML (docs/ivr.md)"}})]},
        "FlowEnvelope": _obj({"flow": _ref("Flow")}),
        "FlowDefinition": {"type": "object",
                           "description": "one flow, as under ivr: in the YAML (docs/ivr.md)"},
        "FlowError": _obj({"error": STR, "message": STR, "flow": _null(STR),
                           "step": _null(STR),
                           "path": {"type": "array", "items": {"type": ["string", "integer"]}}}),
        "FlowInUse": _obj({"error": STR, "message": STR,
                           "references": {"type": "array", "items": STR}}),
        "ReportInfo": _obj({"name": _enum(sorted(REPORTS)), "title": STR, "description": STR,
                            "groups": {"type": "array", "items": _enum(_values(Group))},
                            "raw": {"type": "boolean"}}),
        "Reports": _obj({"reports": {"type": "array", "items": _ref("ReportInfo")}}),
        "Column": _obj({"key": STR, "title": STR, "kind": _enum(_values(Kind)),
                        "description": STR}),
        "Table": _obj({
            "name": STR, "title": STR,
            "params": {"type": "object", "additionalProperties": VALUE},
            "columns": {"type": "array", "items": _ref("Column")},
            "targets": {"type": "object", "additionalProperties": NUM},
            "rows": {"type": "array", "items": {"type": "object",
                                                "additionalProperties": VALUE}}},
            description="a report: its columns, and a value per column key in each row"),
        "QueueNow": _obj({
            "waiting": INT, "longest_wait": NUM, "callbacks_pending": INT,
            "agents_logged_in": INT,
            "agents": {"type": "object", "additionalProperties": INT,
                       "description": "agents of the queue per state (logged out left out)"},
            "callers": {"type": "array", "items": _obj({
                "call_id": STR, "caller": STR, "since": TIME, "wait": NUM})}}),
        "AgentNow": _obj({
            "state": _enum(_values(LiveState)), "since": TIME, "for": NUM, "reason": STR,
            "call_id": STR, "queues": {"type": "array", "items": STR}, "device": STR}),
        "RealtimeBoard": _obj(
            {"at": TIME, "seq": INT,
             "queues": {"type": "object", "additionalProperties": _ref("QueueNow")},
             "agents": {"type": "object", "additionalProperties": _ref("AgentNow")}},
            {"today": _obj({"queues": {"type": "array", "items": {"type": "object"}},
                            "through_seq": _null(INT)})},
            description="`today`: today's queue report (as GET /api/v1/reports/queues)"),
        "StaffingInterval": _obj({}, staffing_fields, closed=True),
        "StaffingRequest": _obj({}, {**staffing_fields, "intervals": {
            "type": "array", "minItems": 1, "maxItems": 5000,
            "items": _ref("StaffingInterval")}}, closed=True,
            description="one interval, or `intervals` sharing the top-level fields; "
                        "`calls` and `aht` are required in each")
        | {"anyOf": [{"required": ["calls", "aht"]}, {"required": ["intervals"]}]},
        "QueueForecast": _obj({
            "queue": STR,
            "forecast": _obj({"start": TIME, "zone": STR, "interval": INT, "weeks": INT,
                              "trend": NUM, "total": NUM, "unknown_slots": INT}),
            "aht": _obj({"source": {"enum": ["measured", "given"]}, "min_handled": INT,
                         "handled": INT, "measured_overall": _null(NUM),
                         "sources": {"type": "object", "additionalProperties": INT}},
                        description="the AHT measured per interval in the history "
                        "(docs/staffing.md); `source`: what the plan used"),
            "patience": _obj({"source": {"enum": ["none", "given", "measured"]},
                              "measured": _null(NUM), "abandoned": INT},
                             description="mean patience measured in the history (null: "
                             "fewer than 10 abandoned calls); `source`: what the plan used"),
            "accuracy": _null(_ref("Table")), "accuracy_error": _null(STR),
            "plan": _ref("Table")}),
        "Forecasts": _obj({"queues": {"type": "array", "items": _ref("QueueForecast")}}),
        "OpenApi": {"type": "object", "description": "this document"},
    }


# -- parameters, responses, operations ------------------------------------------------------


def _param(name: str, where: str, schema: Schema, description: str = "") -> Schema:
    out: Schema = {"name": name, "in": where, "schema": schema}
    if where == "path":
        out["required"] = True
    if description:
        out["description"] = description
    return out


ID: Final[Schema] = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def _path(name: str) -> Schema:
    return _param(name, "path", ID)


def _query(name: str, schema: Schema | None = None, description: str = "") -> Schema:
    return _param(name, "query", schema or STR, description)


def _page(max_page: int, max_offset: int) -> list[Schema]:
    offset: Schema = {"type": "integer", "minimum": 0, "maximum": max_offset}
    return [_query("limit", {"type": "integer", "minimum": 1, "maximum": max_page,
                             "default": 50}), _query("offset", offset)]  # fmt: skip


def _json(schema: Schema, description: str, **headers: Schema) -> Schema:
    out: Schema = {"description": description,
                   "content": {"application/json": {"schema": schema}}}  # fmt: skip
    if headers:
        out["headers"] = headers
    return out


def _err(description: str) -> Schema:
    return _json(_ref("Error"), description)


def _op(
    op_id: str,
    summary: str,
    tag: str,
    responses: Mapping[int, Schema],
    *,
    params: Iterable[Schema] = (),
    body: tuple[str, bool] | None = None,
    guarded: bool = True,
) -> Schema:
    """One operation; ``body`` is (schema name, required); a guarded one may answer 401/403
    and takes the bearer token (or nothing, from loopback)."""
    out: Schema = {"operationId": op_id, "summary": summary, "tags": [tag]}
    if params:
        out["parameters"] = list(params)
    if body is not None:
        out["requestBody"] = {"required": body[1],
                              "content": {"application/json": {"schema": _ref(body[0])}}}
    answers = {str(code): answer for code, answer in sorted(responses.items())}
    if guarded:
        answers |= {"401": {"$ref": "#/components/responses/Unauthorized"},
                    "403": {"$ref": "#/components/responses/Forbidden"}}
        out["security"] = [{}, {"bearer": []}]
    else:
        out["security"] = []
    out["responses"] = answers
    return out


def _file(description: str, media_type: str) -> Schema:
    return {"description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}


_REPORT_PARAMS: Final = (
    ("from", STR, "start (inclusive): 2026-11-01, 2026-11-01T08:30, 1405/09/10, today, "
     "yesterday, now or epoch seconds; default today"),
    ("to", STR, "end (exclusive; a bare date means its end); default now"),
    ("queue", STR, "queues, comma-separated"),
    ("agent", STR, "agents, comma-separated"),
    ("team", STR, "a team of reports.teams"),
    ("group", _enum(_values(Group)), "grouping (the report's own default if absent)"),
    ("interval", _enum([str(s // 60) for s in INTERVALS]), "interval size in minutes"),
    ("tz", STR, "IANA time zone (default reports.timezone)"),
    ("calendar", _enum(["gregorian", "jalali"]), "calendar of CSV/XLSX dates"),
    ("language", _enum(["en", "fa", "ar"]), "language of CSV/XLSX column titles and labels"),
    ("format", _enum(FORMATS), "json (default), csv or xlsx"),
)


def _report_op(op_id: str, summary: str, named: bool) -> Schema:
    params = [_query(name, schema, text) for name, schema, text in _REPORT_PARAMS]
    if named:
        params.insert(0, _param("name", "path", _enum(sorted(REPORTS))))
    ok = {"description": "the report, in the format asked for",
          "content": {"application/json": {"schema": _ref("Table")},
                      "text/csv": {"schema": STR},
                      XLSX: {"schema": {"type": "string", "format": "binary"}}}}  # fmt: skip
    return _op(op_id, summary, "reports", {200: ok, 400: _err("a parameter not accepted "
               "(`field` names it)"), 404: _err("`not_found`: no such report")},
               params=params)  # fmt: skip


def _paths() -> dict[str, dict[str, Schema]]:
    bad, missing = _err("`bad_request`"), "`not_found`"
    rec, vm, ct = "recordings", "voicemail", "contacts"
    ag, cb = "agents", "callbacks"
    agent_ok = _json(_ref("Agent"), "the agent after the action was handed to the ACD")
    agent_errors = {404: _err(f"{missing}: no such agent"), 400: bad}
    message = _json(_ref("MessageEnvelope"), "the message")
    no_message = _err("`no_such_message`")
    contact_bad = _err("`invalid`, with `field`")
    audio = {200: _file("the WAV file (HTTP ranges are answered)", "audio/wav"),
             206: _file("the range asked for", "audio/wav"),
             416: {"description": "the range asked for is not in the file"}}
    return {
        "/health": {"get": _op("health", "Tamas is up", "status",
                               {200: _json(_ref("Health"), "ok")}, guarded=False)},
        "/api/v1/registrations": {"get": _op(
            "registrations", "phones registered, per extension", "status",
            {200: _json(_ref("Registrations"), "live bindings")}, guarded=False)},
        "/api/v1/calls": {"get": _op("calls", "calls in progress", "status",
                                     {200: _json(_ref("Calls"), "the calls")}, guarded=False)},
        "/api/v1/trunks": {"get": _op("trunks", "registration state of trunks", "status",
                                      {200: _json(_ref("Trunks"), "by trunk")}, guarded=False)},
        OPENAPI_PATH: {"get": _op("openapi", "this document", "status",
                                  {200: _json(_ref("OpenApi"), "OpenAPI 3.1")}, guarded=False)},
        "/api/v1/calls/{call_id}/recording": {"post": _op(
            "controlRecording", "start, pause, resume or stop a call's recording", rec,
            {200: _json(_ref("RecordingEnvelope"), "paused, resumed, or stopped and stored"),
             201: _json(_ref("RecordingEnvelope"), "started"), 400: bad,
             404: _err("`no_such_call`"),
             409: _err("`not_answered`, `already_recording` or `not_recording`"),
             500: _err("`not_stored`: stopped, but its row could not be written")},
            params=[_path("call_id")], body=("RecordingAction", True))},
        "/api/v1/recordings": {"get": _op(
            "listRecordings", "finished recordings, newest first", rec,
            {200: _json(_ref("RecordingPage"), "a page"), 400: bad},
            params=[_query("call_id"),
                    _query("from", STR, "start time from (inclusive): epoch seconds or ISO 8601"),
                    _query("to", STR, "start time before (exclusive)"),
                    *_page(store_recordings.MAX_PAGE, 1 << 31)])},
        "/api/v1/recordings/{recording_id}": {"get": _op(
            "getRecording", "a recording (finished or in progress)", rec,
            {200: _json(_ref("RecordingEnvelope"), "it"), 404: _err("`no_such_recording`")},
            params=[_path("recording_id")])},
        "/api/v1/recordings/{recording_id}/audio": {"get": _op(
            "getRecordingAudio", "a finished recording's WAV file", rec,
            {**audio, 404: _err("`no_such_recording` or `no_audio`"),
             409: _err("`in_progress`: not yet stopped")},
            params=[_path("recording_id")])},
        "/api/v1/voicemail": {"get": _op(
            "listMessages", "voicemail messages, newest first", vm,
            {200: _json(_ref("MessagePage"), "a page"), 400: bad},
            params=[_query("box"), _query("status", STR, "new, old and/or deleted, "
                                          "comma-separated (default new,old)"),
                    _query("assigned_to"), *_page(store_voicemail.MAX_PAGE, 1 << 31)])},
        "/api/v1/voicemail/{message_id}": {
            "get": _op("getMessage", "a message", vm, {200: message, 404: no_message},
                       params=[_path("message_id")]),
            "delete": _op("deleteMessage", "mark it deleted and remove its file", vm,
                          {200: message, 404: no_message}, params=[_path("message_id")])},
        "/api/v1/voicemail/{message_id}/audio": {"get": _op(
            "getMessageAudio", "a message's WAV file", vm,
            {**audio, 404: _err("`no_audio`")}, params=[_path("message_id")])},
        "/api/v1/voicemail/{message_id}/read": {"post": _op(
            "markMessageRead", "status becomes old", vm, {200: message, 404: no_message},
            params=[_path("message_id")])},
        "/api/v1/voicemail/{message_id}/assign": {"post": _op(
            "assignMessage", "give a message to an agent (null: unassign)", vm,
            {200: message, 400: bad, 404: no_message, 422: _err("`no_such_agent`")},
            params=[_path("message_id")], body=("Assignment", True))},
        "/api/v1/contacts": {
            "get": _op("searchContacts", "contacts by name, word of it, or number prefix", ct,
                       {200: _json(_ref("ContactPage"), "a page"), 400: contact_bad},
                       params=[_query("q"), *_page(store_contacts.MAX_PAGE, 1 << 31)]),
            "post": _op("createContact", "create a contact", ct,
                        {201: _json(_ref("ContactEnvelope"), "created",
                                    Location={"schema": STR}),
                         400: contact_bad, 409: _err("`duplicate_code`")},
                        body=("NewContact", True))},
        "/api/v1/contacts/by-number/{number}": {"get": _op(
            "contactByNumber", "the contact of a number (screen pop)", ct,
            {200: _json(_ref("ContactEnvelope"), "found"), 400: contact_bad,
             404: _err("`no_such_contact`")}, params=[_path("number")])},
        "/api/v1/contacts/{contact_id}": {
            "get": _op("getContact", "a contact", ct,
                       {200: _json(_ref("ContactEnvelope"), "it"),
                        404: _err("`no_such_contact`")}, params=[_path("contact_id")]),
            "patch": _op("changeContact", "change the fields given", ct,
                         {200: _json(_ref("ContactEnvelope"), "changed"), 400: contact_bad,
                          404: _err("`no_such_contact`"), 409: _err("`duplicate_code`")},
                         params=[_path("contact_id")], body=("ContactChange", True)),
            "delete": _op("deleteContact", "delete a contact", ct,
                          {204: {"description": "deleted"}, 404: _err("`no_such_contact`")},
                          params=[_path("contact_id")])},
        "/api/v1/agents": {"get": _op("listAgents", "every agent, in configuration order", ag,
                                      {200: _json(_ref("Agents"), "the agents")})},
        "/api/v1/agents/{agent}/login": {"post": _op(
            "loginAgent", "log an agent in on a device", ag, {200: agent_ok, **agent_errors},
            params=[_path("agent")], body=("Login", False))},
        "/api/v1/agents/{agent}/logout": {"post": _op(
            "logoutAgent", "log an agent out", ag, {200: agent_ok, **agent_errors},
            params=[_path("agent")])},
        "/api/v1/agents/{agent}/pause": {"post": _op(
            "pauseAgent", "pause an agent", ag, {200: agent_ok, **agent_errors},
            params=[_path("agent")], body=("Pause", False))},
        "/api/v1/agents/{agent}/unpause": {"post": _op(
            "unpauseAgent", "unpause an agent", ag, {200: agent_ok, **agent_errors},
            params=[_path("agent")])},
        "/api/v1/queues": {"get": _op("listQueues", "every queue: who waits", ag,
                                      {200: _json(_ref("Queues"), "the queues")})},
        "/api/v1/callbacks": {
            "post": _op("scheduleCallback", "call a customer back from a queue", cb,
                        {201: _json(_ref("CallbackEnvelope"), "scheduled"), 400: bad},
                        body=("NewCallback", True)),
            "get": _op("listCallbacks", "pending callbacks", cb,
                       {200: _json(_ref("Callbacks"), "in line first, then by time"),
                        404: _err(f"{missing}: no such queue")},
                       params=[_query("queue")])},
        "/api/v1/callbacks/{callback_id}": {"delete": _op(
            "cancelCallback", "cancel a pending callback", cb,
            {204: {"description": "cancelled"}, 400: bad,
             404: _err(f"{missing}: no such pending callback"),
             409: _err("`in_progress`: an agent is being called for it")},
            params=[_path("callback_id"),
                    _query("reason", {"type": "string", "maxLength": 200})])},
        "/api/v1/ivr/flows": {"get": _op(
            "listIvrFlows", "every IVR flow: from the file or stored", "ivr",
            {200: _json(_ref("Flows"), "by name")})},
        "/api/v1/ivr/flows/{name}": {
            "get": _op("getIvrFlow", "one IVR flow and its definition", "ivr",
                       {200: _json(_ref("FlowEnvelope"), "the flow"),
                        404: _err("`no_such_flow`")}, params=[_path("name")]),
            "put": _op("putIvrFlow", "store a flow (checked; in effect for new calls)", "ivr",
                       {200: _json(_ref("FlowEnvelope"), "replaced"),
                        201: _json(_ref("FlowEnvelope"), "stored"),
                        400: _json(_ref("FlowError"), "`invalid`: flow, step and key path")},
                       params=[_path("name")], body=("FlowDefinition", True)),
            "delete": _op("deleteIvrFlow", "delete a stored flow (the file's comes back)", "ivr",
                          {204: {"description": "deleted"},
                           404: _err("`no_such_flow`: not stored"),
                           409: _json(_ref("FlowInUse"), "`in_use`: still referenced")},
                          params=[_path("name")])},
        "/api/v1/reports": {"get": _op("listReports", "the reports", "reports",
                                       {200: _json(_ref("Reports"), "by name")})},
        "/api/v1/reports/{name}": {"get": _report_op("getReport", "a report", True)},
        "/api/v1/kpis": {"get": _report_op("getKpis", "the KPIs beside their targets", False)},
        "/api/v1/realtime": {"get": _op(
            "realtime", "the live board (also pushed on WS /api/v1/realtime/ws)", "realtime",
            {200: _json(_ref("RealtimeBoard"), "now")})},
        "/api/v1/wfm/staffing": {"post": _op(
            "staffing", "Erlang C/A staffing of given traffic", "wfm",
            {200: _json(_ref("Table"), "the staffing table"), 400: contact_bad},
            body=("StaffingRequest", True))},
        "/api/v1/wfm/forecast": {"get": _op(
            "forecast", "next week's forecast and staffing plan per queue", "wfm",
            {200: _json(_ref("Forecasts"), "per queue"), 400: contact_bad,
             422: _err("`not_enough_history`")},
            params=[_query("queue"),
                    _query("weeks", {"type": "integer", "minimum": 2, "maximum": 52}),
                    _query("holdout", {"type": "integer", "minimum": 1, "maximum": 26}),
                    _query("zone", STR, "IANA time zone (default reports.timezone)"),
                    _query("aht", {"type": "number", **_STAFFING["aht"]},
                           "one AHT (s) for every interval; default: the AHT measured per "
                           "interval in the history"),
                    _query("patience", {"anyOf": [
                        {"type": "number", **_STAFFING["patience"]}, {"const": "measured"}]},
                        "mean patience (s) for Erlang A, or `measured` (from the history); "
                        "default: Erlang C"),
                    *(_query(n, {"type": "number", **_STAFFING[n]})
                      for n in ("sl", "threshold", "shrinkage", "max_occupancy"))])},
    }  # fmt: skip


def openapi_document(*, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP API (``version``: Tamas's)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tamas HTTP API", "version": version, "description": _DESCRIPTION},
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "server.api_token; not needed from a loopback address"}},
            "responses": {
                "Unauthorized": _err("`unauthorized`: a missing or wrong bearer token")
                | {"headers": {"WWW-Authenticate": {"schema": STR}}},
                "Forbidden": _err("`forbidden`: no token is configured and the client is "
                                  "not on loopback"),
            },
        },
    }  # fmt: skip


def openapi_routes(document: Mapping[str, Any]) -> list[BaseRoute]:
    """``GET /api/v1/openapi.json`` serving ``document`` (no guard: it holds no data)."""

    async def serve(_: Request) -> Response:
        return JSONResponse(document)

    return [Route(OPENAPI_PATH, serve, methods=["GET"])]
