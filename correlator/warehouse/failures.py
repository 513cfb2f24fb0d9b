"""Which ClickHouse errors a retry can heal: the store's failure policy, by the server's error code.

An insert refused because of the rows themselves (a constraint a DBA added, a value the
column cannot take) fails the same way every time: retried, it stalls its partition for
good. Everything else (timeouts, too many parts, memory, a table detached, a server away,
credentials being rotated) may heal, and is retried. Mature sinks draw the same line:
Vector's ClickHouse sink does not retry ``Code: 117``.
"""

from __future__ import annotations

import re

# codes from ClickHouse's src/Common/ErrorCodes.cpp that are about the data sent
PERMANENT_CODES = frozenset({
    6,    # CANNOT_PARSE_TEXT
    26,   # CANNOT_PARSE_QUOTED_STRING
    27,   # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    38,   # CANNOT_PARSE_DATE
    41,   # CANNOT_PARSE_DATETIME
    53,   # TYPE_MISMATCH
    69,   # ARGUMENT_OUT_OF_BOUND
    70,   # CANNOT_CONVERT_TYPE
    72,   # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    395,  # FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a throwIf in a materialized view)
    469,  # VIOLATED_CONSTRAINT
})  # fmt: skip
_CODE = re.compile(r"\bCode: (\d+)\.")


def error_code(exc: BaseException) -> int | None:
    """The ClickHouse error code an exception carries (clickhouse-connect's ``code``, else its message), or None."""
    code = getattr(exc, "code", None)
    if isinstance(code, int) and code > 0:
        return code
    found = _CODE.search(str(exc))
    return int(found.group(1)) if found else None


def is_permanent(exc: BaseException) -> bool:
    """True when the server refused the rows themselves: the same insert would fail again."""
    return error_code(exc) in PERMANENT_CODES
