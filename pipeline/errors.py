"""User-facing errors. The CLI prints them as one line and exits non-zero, with no traceback."""


class CptError(Exception):
    """An error the user can fix: bad config, missing input, missing asset, unreadable data."""

    exit_code = 2


class ConfigError(CptError):
    """An unknown config key or an invalid value."""


class InputError(CptError):
    """A missing or unreadable input path."""


class AssetError(CptError):
    """A missing asset (model, tokenizer, word list) or a checksum mismatch."""
