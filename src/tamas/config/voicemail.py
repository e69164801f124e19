"""The ``voicemail:`` section: mailboxes, the access number and e-mail delivery."""

from __future__ import annotations

from tamas.config.section import Section


class VoicemailConfig(Section):
    """Voicemail settings (see docs/configuration.md)."""
