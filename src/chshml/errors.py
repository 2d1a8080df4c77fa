"""Errors the user can fix: the CLI prints them as one line on stderr and exits with code 2."""


class InputError(Exception):
    """Bad input or configuration, with a message naming the row, key or option at fault."""
