"""Configuration: a YAML file validated into frozen pydantic models.

``load_config(path)`` (``None`` = the built-in demo center) returns a Config or raises
ConfigError whose message names file:line:column, the key path, the problem and the fix.
"""

from tamas.config.errors import ConfigError, Issue, Position
from tamas.config.loader import demo_yaml, load_config, parse_config, to_yaml, with_overrides
from tamas.config.model import (
    AuthBanConfig,
    Config,
    DialRule,
    Extension,
    InboundRoute,
    LoggingConfig,
    RateLimitConfig,
    SecurityConfig,
    ServerConfig,
    TlsConfig,
    Trunk,
)

__all__ = [
    "AuthBanConfig",
    "Config",
    "ConfigError",
    "DialRule",
    "Extension",
    "InboundRoute",
    "Issue",
    "LoggingConfig",
    "Position",
    "RateLimitConfig",
    "SecurityConfig",
    "ServerConfig",
    "TlsConfig",
    "Trunk",
    "demo_yaml",
    "load_config",
    "parse_config",
    "to_yaml",
    "with_overrides",
]
