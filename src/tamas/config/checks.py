"""Rules that relate parts of a configuration: uniqueness and references.

Each rule yields an Issue with the key path at fault; the loader adds the file position.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from tamas.config.center_checks import check_center, dialable_numbers
from tamas.config.errors import Issue
from tamas.config.model import Config
from tamas.config.reports import check_reports
from tamas.config.simulation import check_simulation
from tamas.config.voicemail import check_voicemail


def check(config: Config) -> list[Issue]:
    """Every cross-reference problem in ``config`` (empty when it is consistent)."""
    return [
        *_extensions(config),
        *_trunks(config),
        *_dialplan(config),
        *_inbound(config),
        *_tls(config),
        *_media(config),
        *_recording(config),
        *check_center(config),
        *check_voicemail(config),
        *check_reports(config),
        *check_simulation(config),
    ]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'x'?`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _issue(loc: tuple[str | int, ...], message: str, hint: str, got: str | None = None) -> Issue:
    return Issue(loc=loc, position=None, message=message, hint=hint, got=got)


def _extensions(config: Config) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for i, ext in enumerate(config.extensions):
        if ext.number in seen:
            yield _issue(
                ("extensions", i, "number"),
                f"extension {ext.number} is already defined at extensions[{seen[ext.number]}]",
                "give each extension its own number",
            )
        else:
            seen[ext.number] = i
        if ext.enabled and ext.contact is None and not ext.password:
            yield _issue(
                ("extensions", i, "password"),
                "an enabled extension that registers needs a password",
                "set a password, set a static contact, or set enabled: false",
            )


def _trunks(config: Config) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for i, trunk in enumerate(config.trunks):
        if trunk.name in seen:
            yield _issue(
                ("trunks", i, "name"),
                f"trunk name '{trunk.name}' is already used by trunks[{seen[trunk.name]}]",
                "give each trunk its own name",
            )
        else:
            seen[trunk.name] = i
        if trunk.register and not (trunk.username and trunk.password):
            yield _issue(
                ("trunks", i, "register"),
                "registering to a trunk needs a username and a password",
                "set username and password, or set register: false",
            )


def _trunk_ref(config: Config, loc: tuple[str | int, ...], name: str) -> Iterator[Issue]:
    names = [t.name for t in config.trunks]
    if name in names:
        return
    if not names:
        hint = "define the trunk under 'trunks:' first"
    else:
        hint = did_you_mean(name, names) or f"use one of: {', '.join(names)}"
    yield _issue(loc, "no trunk has this name", hint, got=repr(name))


def _dialplan(config: Config) -> Iterator[Issue]:
    for i, rule in enumerate(config.dialplan):
        yield from _trunk_ref(config, ("dialplan", i, "trunk"), rule.trunk)
        if rule.strip > len(rule.prefix) and rule.prefix:
            yield _issue(
                ("dialplan", i, "strip"),
                f"strips {rule.strip} digits but the prefix has only {len(rule.prefix)}",
                "strip at most as many digits as the prefix has",
            )


def _inbound(config: Config) -> Iterator[Issue]:
    numbers = sorted(dialable_numbers(config))
    for i, route in enumerate(config.inbound):
        if route.trunk is not None:
            yield from _trunk_ref(config, ("inbound", i, "trunk"), route.trunk)
        if route.destination not in numbers:
            hint = did_you_mean(route.destination, numbers) or "use an extension number"
            yield _issue(
                ("inbound", i, "destination"),
                "no extension, application or queue has this number",
                hint,
                got=repr(route.destination),
            )


def _tls(config: Config) -> Iterator[Issue]:
    cert, key = config.tls.cert_file, config.tls.key_file
    if (cert is None) != (key is None):
        missing = "key_file" if key is None else "cert_file"
        yield _issue(
            ("tls", missing),
            "cert_file and key_file go together",
            f"set {missing} too, or remove both to use a generated self-signed pair",
        )


def _media(config: Config) -> Iterator[Issue]:
    media = config.media
    if media.port_min >= media.port_max:
        yield _issue(("media", "port_max"), "the RTP port range is empty",
                     "make port_max larger than port_min", got=str(media.port_max))  # fmt: skip
    numbers = {e.number for e in config.extensions}
    seen: set[str] = set()
    for i, app in enumerate(media.applications):
        if app.number in numbers or app.number in seen:
            yield _issue(("media", "applications", i, "number"), "this number is taken",
                         "give the application a number of its own",
                         got=repr(app.number))  # fmt: skip
        seen.add(app.number)
        shadowed = sorted(n for n in numbers | {a.number for a in media.applications}
                          if n != app.number and n.startswith(app.number))  # fmt: skip
        if app.kind == "monitor" and shadowed:
            yield _issue(("media", "applications", i, "number"),
                         f"this monitor prefix would take calls to {shadowed[0]}",
                         "use a prefix no other number starts with (e.g. *30)",
                         got=repr(app.number))  # fmt: skip
        if app.kind == "prompt" and app.prompt_file is None and not app.text:
            yield _issue(("media", "applications", i), "a prompt needs something to say",
                         "set prompt_file (a WAV file) or text (spoken by espeak-ng)")  # fmt: skip


def _recording(config: Config) -> Iterator[Issue]:
    if config.recording.policy == "always" and not config.media.anchor:
        yield _issue(("recording", "policy"),
                     "calls cannot be recorded when media.anchor is false (no audio through Tamas)",
                     "set media.anchor: true, or recording.policy: on_request",
                     got=repr("always"))  # fmt: skip
