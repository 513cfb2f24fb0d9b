"""Types of the plain-line scanner (``_plainlines.c``); :mod:`correlator.processing.plainlines` describes it."""

from collections.abc import Sequence

KEY_GENERAL: int
KEY_TIMESTAMP: int
COLUMN_TIMESTAMP: int
COLUMN_FIELD: int
COLUMN_CONSTANT: int
COLUMN_EMPTY_ARRAY: int
COLUMN_ATTRIBUTES: int
COLUMN_NULL_FLOAT: int
COLUMN_TOPIC: int
COLUMN_PARTITION: int
COLUMN_OFFSET: int
FLAG_LOWER: int
FLAG_STRIP: int

class Scan:
    @property
    def lines(self) -> tuple[bytes | None, ...]: ...
    @property
    def offsets(self) -> list[int]: ...
    @property
    def taken(self) -> int: ...
    def messages(self) -> bytes: ...
    def texts(self) -> bytes: ...
    def decline_messages(self, ends: Sequence[int], declined: bytearray, /) -> None: ...
    def decline_texts(self, ends: Sequence[int], declined: bytearray, /) -> None: ...
    def release_texts(self) -> None: ...
    def runs(self) -> list[tuple[int, int, int]]: ...
    def encode(self, runs: Sequence[tuple[int, int]], /) -> bytes: ...

class Scanner:
    def __init__(
        self,
        keys: dict[str, int],
        level_field: int,
        error_levels: Sequence[str],
        columns: Sequence[tuple[str, str, int, int, int, bytes]],
        text_fields: Sequence[int],
        attributes_are_text: bool,
    ) -> None: ...
    def scan(
        self,
        values: Sequence[bytes | None],
        offsets: Sequence[int],
        declined: bytearray,
        earliest: int,
        latest: int,
        topic: str,
        partition: int,
        message_field: int,
        /,
    ) -> Scan: ...
