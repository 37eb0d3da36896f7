"""The one exception type users see: a message that says what is wrong and what to do."""


class SyngenError(Exception):
    """A problem with the user's input, settings or artifacts.

    The CLI prints its message without a traceback, so the message must name the file,
    table or column concerned and, where there is one, the fix.
    """
