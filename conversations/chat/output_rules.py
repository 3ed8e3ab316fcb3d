"""Rules applied to an answer while it streams, token by token.

They see the text in pieces, so each rule keeps state across pieces: a run of exclamation marks
split over two tokens still becomes a single full stop.
"""


class ExclamationReplacer:
    """Turns each run of '!' into one '.', across token boundaries.

    A run at the end of a piece is held back until the next piece shows whether it goes on, and
    `flush()` releases it when the stream ends.
    """

    def __init__(self) -> None:
        self._pending = False

    @property
    def holding(self) -> bool:
        return self._pending

    def feed(self, piece: str) -> str:
        out: list[str] = []
        for char in piece:
            if char == "!":
                self._pending = True
                continue
            if self._pending:
                out.append(".")
                self._pending = False
            out.append(char)
        return "".join(out)

    def flush(self) -> str:
        if self._pending:
            self._pending = False
            return "."
        return ""


class OutputRules:
    """The chatbot's output rules as one filter; a no-op when none are switched on."""

    def __init__(self, *, replace_exclamation_marks: bool) -> None:
        self._exclamation = ExclamationReplacer() if replace_exclamation_marks else None

    def feed(self, piece: str) -> str:
        if self._exclamation is None or ("!" not in piece and not self._exclamation.holding):
            return piece
        return self._exclamation.feed(piece)

    def flush(self) -> str:
        return self._exclamation.flush() if self._exclamation else ""
