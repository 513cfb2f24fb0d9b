"""LLMChatError: the cause and the error_id survive in the text, and it is still a ValueError."""

from __future__ import annotations

import re

from correlator.emit import LLMChatError
from correlator.processing.classify import Classifier
from correlator.processing.rootcause import ChainLink, extend_with_embedded_causes


def test_llm_chat_error_carries_id_and_cause_and_is_a_value_error():
    cause = TimeoutError("The read operation timed out")
    error = LLMChatError(cause)
    assert isinstance(error, ValueError)
    assert re.fullmatch(r"[0-9a-f]{12}", error.error_id)
    assert str(error) == f"LLM chat interaction failed [{error.error_id}]: TimeoutError: The read operation timed out"
    assert error.cause is cause


def test_raised_from_none_the_cause_is_still_found_in_its_text():
    error = LLMChatError(KeyError("choices"), error_id="4c2a64973bcd")
    chain = extend_with_embedded_causes((ChainLink("LLMChatError", str(error)),), Classifier.from_file().embedded_cause)
    assert chain[0] == ChainLink("KeyError", "'choices'")
