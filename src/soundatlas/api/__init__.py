"""The HTTP API, a front door like the CLI and the dashboard: `create_app` over an atlas
folder, served by ``soundatlas serve``. Routes only gather parameters and format results; the
discovery library decides."""

from soundatlas.api.app import create_app
from soundatlas.api.guard import RateLimit, read_tokens

__all__ = ["RateLimit", "create_app", "read_tokens"]
