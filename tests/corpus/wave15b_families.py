"""Development-only cases for the family of rules 2026.12.06-18 (issue 19, fifteenth session, second round, helper
rules15b): a guardrail's or safety system's verdict in the words of the library that gives it.

Written by the rule writer, not by a corpus wave, so every scenario is recorded in the development part of
``broad_split.json`` by hand, never by :func:`tests.corpus.broad.assign`. None comes from a sealed case or a public
issue thread. The wording is read from the installed libraries: LiteLLM's Vertex/Gemini finish-reason texts
(``VertexGeminiConfig.get_flagged_finish_reasons``), the ``HTTPException`` details of LiteLLM proxy's guardrail hooks
(Prompt Security, Onyx, Model Armor) as the OpenAI SDK raises them from the proxy's 400, LiteLLM's Stability error,
Azure OpenAI's ``content_filter_results`` as the OpenAI SDK parses them, and Gemini's finish reasons as
google-genai's ``FinishReason`` names them; an application's check raises with them.
"""

from __future__ import annotations

from typing import Any

from google.genai import types as genai_types
from litellm.llms.stability.image_generation.transformation import StabilityImageGenerationConfig
from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexGeminiConfig

from tests.corpus.sdk_errors import _USER_MSG, Case, _json_handler, _openai_client, _openai_err, _openai_status, _raises
from tests.corpus.wave10_families import ReplyError


def build_wave15b_family_cases() -> list[Case]:
    return [*_vertex_flagged_cases(), *_proxy_guardrail_cases(), *_azure_filter_cases(), *_finish_reason_cases()]


def check_generation(finish_reason: str) -> None:
    """LiteLLM's own text for a flagged Gemini finish reason, raised by the application that read it."""
    flagged = VertexGeminiConfig().get_flagged_finish_reasons()
    if finish_reason in flagged:
        raise ReplyError(f"no answer: {flagged[finish_reason]}")


def _vertex_flagged_cases() -> list[Case]:
    return [
        Case(f"wave15b_families.vertex_flagged.{reason.lower()}", "content_filter", _raises(check_generation, reason))
        for reason in ("RECITATION", "SPII", "BLOCKLIST", "PROHIBITED_CONTENT")
    ]


def _proxy_guardrail_cases() -> list[Case]:
    """A LiteLLM proxy's guardrail hook refused the call: its ``HTTPException`` detail, as the proxy returns it."""
    details = {
        "prompt_security": "Blocked by Prompt Security, Violations: Jailbreak, Secrets",
        "onyx": "Request blocked by Onyx Guard. Violations: prompt_injection.",
        "model_armor": str({"error": "Response blocked by Model Armor"}),
    }
    cases = [
        Case(
            f"wave15b_families.proxy_guardrail.{name}",
            "content_filter",
            _openai_status(400, _openai_err(text, None, "400")),
        )
        for name, text in details.items()
    ]
    stability = _raises(  # the base class raises the error it is asked for
        StabilityImageGenerationConfig().get_error_class,
        error_message="Content was filtered by Stability AI safety systems",
        status_code=400,
        headers={},
    )
    cases.append(Case("wave15b_families.proxy_guardrail.stability", "content_filter", stability))
    return cases


def answer_text(completion: Any) -> str:
    """Azure OpenAI's per-category verdicts ride on the choice as an extra field the SDK keeps."""
    choice = completion.choices[0]
    verdicts = (choice.model_extra or {}).get("content_filter_results", {})
    if not choice.message.content:
        raise ReplyError(f"empty answer: {verdicts}")
    return str(choice.message.content)


def _azure_answer(category: str) -> Any:
    verdicts = {
        name: {"filtered": name == category, "severity": "high" if name == category else "safe"}
        for name in ("hate", "self_harm", "sexual", "violence")
    }
    body = {
        "id": "chatcmpl-9x",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": ""},
                "content_filter_results": verdicts,
            }
        ],
    }
    client = _openai_client(_json_handler(200, body), azure=True)
    return client.chat.completions.create(model="gpt-4o", messages=_USER_MSG)


def _azure_filter_cases() -> list[Case]:
    return [
        Case(
            f"wave15b_families.azure_filter.{category}",
            "content_filter",
            _raises(answer_text, _azure_answer(category)),
        )
        for category in ("violence", "self_harm")
    ]


def candidate_text(candidate: genai_types.Candidate) -> str:
    """The application names the finish reason in its own words (``finish reason SPII``)."""
    reason = candidate.finish_reason
    if reason is not None and reason != genai_types.FinishReason.STOP:
        raise ReplyError(f"generation ended early, finish reason {reason.value}")
    return ""


def _finish_reason_cases() -> list[Case]:
    return [
        Case(
            f"wave15b_families.finish_reason.{reason.value.lower()}",
            "content_filter",
            _raises(candidate_text, genai_types.Candidate(finish_reason=reason)),
        )
        for reason in (genai_types.FinishReason.SPII, genai_types.FinishReason.BLOCKLIST)
    ]
