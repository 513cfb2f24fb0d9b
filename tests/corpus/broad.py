"""A broader labelled corpus, from sources the rules were not written against, split for an honest measure.

Sources (never public issue threads):

* ``sdkclass.*``: exception classes each SDK defines (read from the installed source:
  ``openai/_exceptions.py``, ``anthropic/_exceptions.py``, ``google/genai/errors.py``,
  ``mistralai/client/errors``, ``litellm/exceptions.py``), raised for real: by the SDK over a
  mock transport where a status selects the class, else constructed as the SDK's own code does.
* ``catalogue.*``: providers' documented error statuses and bodies not used by
  :mod:`tests.corpus.sdk_errors` (409, 412, 413, 501, 504 under a 5xx class, capacity 429s,
  unknown models, proxy HTML pages, tool-message ordering, Gemini's ``FAILED_PRECONDITION``).
* ``app.*``: built-ins raised by realistic application code (tool dispatch, response parsing,
  retrieval, configuration loading, blob storage, stop-reason checks, exception groups).

Each case belongs to a scenario (its name without the last dotted part); the development and
sealed parts are whole scenarios, recorded in ``broad_split.json`` (:func:`split_of`), so no
variant of a sealed scenario informs a rule.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import configparser
import gzip
import hashlib
import json
import os
import pickle
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import orjson
import pydantic

from tests.corpus.sdk_errors import (
    _USER_MSG,
    Case,
    _anthropic_create,
    _anthropic_status,
    _araises,
    _env,
    _gemini_status,
    _litellm_raise,
    _mistral_status,
    _openai_client,
    _openai_err,
    _openai_status,
    _raises,
    _raises_as,
)
from tests.corpus.wave3 import build_wave3_cases
from tests.corpus.wave4 import build_wave4_cases

SPLIT_PATH = Path(__file__).with_name("broad_split.json")
SEALED_SHARE = 0.4  # of scenarios, chosen by a hash of the scenario id


def scenario_of(case_name: str) -> str:
    return case_name.rsplit(".", 1)[0]


def assign(scenario: str) -> str:
    """The part a new scenario falls in: a stable hash of its id, never its content."""
    bucket = int(hashlib.sha256(scenario.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "sealed" if bucket < SEALED_SHARE else "development"


def split_of() -> dict[str, str]:
    """scenario id → ``development`` or ``sealed``, as recorded (a scenario moved to development stays there)."""
    recorded: dict[str, list[str]] = json.loads(SPLIT_PATH.read_text())
    return {scenario: part for part in ("development", "sealed") for scenario in recorded[part]}


# --------------------------------------------------------------------------------------------------
# SDK exception classes
# --------------------------------------------------------------------------------------------------


def _openai_text(status: int, text: str, content_type: str = "text/html") -> BaseException:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=text, headers={"content-type": content_type})

    return _raises(_openai_client(handler).chat.completions.create, model="gpt-4o", messages=_USER_MSG)


def _anthropic_html(status: int, text: str) -> BaseException:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, text=text, headers={"content-type": "text/html"})

    return _anthropic_create(handler)


def _openai_class_cases() -> list[Case]:
    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    return [
        Case(
            "sdkclass.openai.conflict.409",
            "bad_request",
            _openai_status(
                409, _openai_err("The fine-tuning job is already running and cannot be modified.", None, "conflict")
            ),
        ),
        Case(
            "sdkclass.openai.unprocessable.422",
            "bad_request",
            _openai_status(422, _openai_err("Unrecognized request argument supplied: tool_choices", None, None)),
        ),
        Case("sdkclass.openai.api_timeout.constructed", "timeout", _raises(_raise, openai.APITimeoutError(request))),
        Case(
            "sdkclass.openai.api_connection.constructed",
            "connection",
            _raises(_raise, openai.APIConnectionError(request=request)),
        ),
        Case(
            "sdkclass.openai.length_finish_reason.constructed",
            "truncation",
            _raises(_raise, openai.LengthFinishReasonError(completion=_completion("length"))),
        ),
        Case(
            "sdkclass.openai.content_filter_finish_reason.constructed",
            "content_filter",
            _raises(_raise, openai.ContentFilterFinishReasonError()),
        ),
    ]


def _completion(finish_reason: str) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-B3",
            "object": "chat.completion",
            "created": 1733000000,
            "model": "gpt-4o-mini",
            "choices": [
                {"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", "content": "The"}}
            ],
            "usage": {"prompt_tokens": 30, "completion_tokens": 16, "total_tokens": 46},
        }
    )


def _raise(exc: BaseException) -> None:
    raise exc


def _anthropic_class_cases() -> list[Case]:
    return [
        Case(
            "sdkclass.anthropic.payment_required.402",
            "quota_exceeded",
            _anthropic_status(402, "billing_error", "Your organization has no remaining prepaid balance."),
        ),
        Case(
            "sdkclass.anthropic.request_timeout.408",
            "timeout",
            _anthropic_status(408, "timeout_error", "Request took too long to process."),
        ),
        Case(
            "sdkclass.anthropic.conflict.409",
            "bad_request",
            _anthropic_status(409, "invalid_request_error", "A batch with this custom_id is already being processed."),
        ),
        Case(
            "sdkclass.anthropic.content_too_large.413",
            "bad_request",
            _anthropic_status(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
        ),
        Case(
            "sdkclass.anthropic.gateway_timeout.504",
            "timeout",
            _anthropic_status(504, "api_error", "Upstream request timeout"),
        ),
        Case(
            "sdkclass.anthropic.service_unavailable.503",
            "server_error",
            _anthropic_status(503, "api_error", "Service Unavailable"),
        ),
        Case(
            "sdkclass.anthropic.not_implemented.501",
            "server_error",
            _anthropic_status(501, "api_error", "Not Implemented"),
        ),
        Case(
            "sdkclass.anthropic.overloaded.529",
            "overloaded",
            _anthropic_status(529, "overloaded_error", "Overloaded"),
        ),
        Case(
            "sdkclass.anthropic.credentials.constructed",
            "configuration",
            _raises(_raise, anthropic.CredentialsError("No credentials found: set ANTHROPIC_API_KEY")),
        ),
    ]


def _gemini_class_cases() -> list[Case]:
    from google.genai import errors as genai_errors

    return [
        Case(
            "sdkclass.gemini.unknown_function_argument.constructed",
            "tool_call_malformed",
            _raises(
                _raise,
                genai_errors.UnknownFunctionCallArgumentError(
                    "Unknown argument 'zip_code' for function get_weather; expected one of: city, unit."
                ),
            ),
        ),
        Case(
            "sdkclass.gemini.unsupported_function.constructed",
            "tool_call_malformed",
            _raises(_raise, genai_errors.UnsupportedFunctionError("Function lookup_order is not found in tools.")),
        ),
        Case(
            "sdkclass.gemini.server_error.500",
            "server_error",
            _gemini_status(500, "INTERNAL", "An internal error has occurred. Please retry or report."),
        ),
    ]


def _mistral_class_cases() -> list[Case]:
    return [
        Case(
            "sdkclass.mistral.validation.422",
            "bad_request",
            _mistral_status(
                422,
                {"detail": [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required", "input": None}]},
            ),
        ),
        Case(
            "sdkclass.mistral.server.500",
            "server_error",
            _mistral_status(500, {"object": "error", "message": "Internal server error", "type": "internal"}),
        ),
    ]


def _litellm_class_cases() -> list[Case]:
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True", TIKTOKEN_CACHE_DIR=os.environ.get("TIKTOKEN_CACHE_DIR")):
        import litellm

        return [
            Case(
                "sdkclass.litellm.budget.constructed",
                "quota_exceeded",
                _litellm_raise(litellm.BudgetExceededError, current_cost=10.4, max_budget=10.0),
            ),
            Case(
                "sdkclass.litellm.unsupported_params.constructed",
                "bad_request",
                _litellm_raise(
                    litellm.UnsupportedParamsError,
                    message="bedrock does not support parameters: ['response_format'], for model=titan-text.",
                    model="amazon.titan-text-express-v1",
                    llm_provider="bedrock",
                ),
            ),
            Case(
                "sdkclass.litellm.json_schema_validation.constructed",
                "schema_mismatch",
                _litellm_raise(
                    litellm.JSONSchemaValidationError,
                    model="gpt-4o",
                    llm_provider="openai",
                    raw_response='{"name": 3}',
                    schema='{"properties": {"name": {"type": "string"}}}',
                ),
            ),
            Case(
                "sdkclass.litellm.bad_gateway.constructed",
                "server_error",
                _litellm_raise(
                    litellm.BadGatewayError,
                    message="OpenAIException - Bad gateway",
                    model="gpt-4o",
                    llm_provider="openai",
                ),
            ),
            Case(
                "sdkclass.litellm.service_unavailable.constructed",
                "server_error",
                _litellm_raise(
                    litellm.ServiceUnavailableError,
                    message="VertexAIException - The service is currently unavailable.",
                    model="gemini-2.5-pro",
                    llm_provider="vertex_ai",
                ),
            ),
            Case(
                "sdkclass.litellm.context_window.constructed",
                "context_length_exceeded",
                _litellm_raise(
                    litellm.ContextWindowExceededError,
                    message="AnthropicException - prompt: 212000 tokens > 200000",
                    model="claude-sonnet-4-5",
                    llm_provider="anthropic",
                ),
            ),
            Case(
                "sdkclass.litellm.unknown_provider.constructed",
                "configuration",
                _litellm_raise(litellm.LiteLLMUnknownProvider, model="gtp-4o"),
            ),
        ]


# --------------------------------------------------------------------------------------------------
# Providers' documented error catalogues, bodies not used by sdk_errors
# --------------------------------------------------------------------------------------------------

_PROXY_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>"
)
_PROXY_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>cloudflare</center></body></html>"
)


def _catalogue_cases() -> list[Case]:
    return [
        Case(
            "catalogue.openai.invalid_model.400",
            "not_found",
            _openai_status(400, _openai_err("invalid model ID", "invalid_request_error", "model_not_found", "model")),
        ),
        Case(
            "catalogue.openai.invalid_model.named",
            "not_found",
            _openai_status(400, _openai_err("Invalid model: gpt-5-turbo-preview", "invalid_request_error", None)),
        ),
        Case(
            "catalogue.openai.tool_messages_order.400",
            "bad_request",
            _openai_status(
                400,
                _openai_err(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    "'tool_call_id'. The following tool_call_ids did not have response messages: call_9aH2",
                    "invalid_request_error",
                    None,
                    "messages.[3].role",
                ),
            ),
        ),
        Case(
            "catalogue.openai.gateway_timeout.504",
            "timeout",
            _openai_status(504, _openai_err("Gateway timeout.", "server_error", None)),
        ),
        Case(
            "catalogue.openai.capacity_429.service_tier",
            "overloaded",
            _openai_status(
                429,
                _openai_err("The engine is currently overloaded, please try again later.", "server_error", None),
            ),
        ),
        Case(
            "catalogue.openai.capacity_429.flex",
            "overloaded",
            _openai_status(
                429,
                _openai_err(
                    "Resource unavailable due to insufficient capacity for the flex service tier. "
                    "Please retry or use the default tier.",
                    "invalid_request_error",
                    "resource_unavailable",
                ),
            ),
        ),
        Case("catalogue.proxy_html.openai_503", "server_error", _openai_text(503, _PROXY_503)),
        Case("catalogue.proxy_html.anthropic_502", "server_error", _anthropic_html(502, _PROXY_502)),
        Case(
            "catalogue.safety_system.openai_chat",
            "content_filter",
            _openai_status(
                400,
                _openai_err(
                    "Your request was rejected as a result of our safety system.", "invalid_request_error", None
                ),
            ),
        ),
        Case(
            "catalogue.anthropic.context_limit.max_tokens",
            "context_length_exceeded",
            _anthropic_status(
                400,
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 198502 + 8192 > 200000, decrease input length "
                "or `max_tokens` and try again",
            ),
        ),
        Case(
            "catalogue.anthropic.not_found_model.404",
            "not_found",
            _anthropic_status(404, "not_found_error", "model: claude-3-opus-latest"),
        ),
        Case(
            "catalogue.gemini.location.failed_precondition",
            "auth",
            _gemini_status(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        ),
        Case(
            "catalogue.gemini.deadline.504",
            "timeout",
            _gemini_status(504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."),
        ),
        Case(
            "catalogue.gemini.unavailable.503",
            "overloaded",
            _gemini_status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
        ),
        Case(
            "catalogue.mistral.model_not_found.400",
            "not_found",
            _mistral_status(
                400,
                {
                    "object": "error",
                    "message": "Invalid model: mistral-huge",
                    "type": "invalid_model",
                    "param": None,
                    "code": "1500",
                },
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Built-ins raised by application code
# --------------------------------------------------------------------------------------------------


def get_order_status(order_id: str, include_history: bool) -> str:
    return f"{order_id}: shipped" + (" (history)" if include_history else "")


TOOLS: dict[str, Callable[..., Any]] = {"get_order_status": get_order_status}


def dispatch_tool(name: str, arguments: str) -> Any:
    """How agent loops run a model's tool call: look the tool up, decode its arguments, call it."""
    tool = TOOLS[name]
    kwargs = json.loads(arguments)
    return tool(**kwargs)


class OrderLookupArgs(pydantic.BaseModel):
    order_id: str
    include_history: bool


def run_validated_tool(arguments: str) -> Any:
    args = OrderLookupArgs.model_validate_json(arguments)
    return get_order_status(args.order_id, args.include_history)


def first_choice_text(response: dict[str, Any]) -> str:
    return str(response["choices"][0]["message"]["content"])


def top_passage(hits: list[dict[str, Any]]) -> str:
    return str(hits[0]["text"])


CUSTOMERS: dict[str, dict[str, str]] = {"cus_1": {"name": "Ada"}}


def customer_profile(customer_id: str) -> dict[str, str]:
    return CUSTOMERS[customer_id]


def load_blob(blob: bytes) -> Any:
    """Cached model outputs are stored compressed in the blob store."""
    return json.loads(zlib.decompress(blob).decode("utf-8"))


def read_transcript(blob: bytes) -> str:
    return blob.decode("utf-8")


def load_cached_embeddings(blob: bytes) -> Any:
    return pickle.loads(blob)


def read_gzipped_chunk(blob: bytes) -> bytes:
    return gzip.decompress(blob)


def load_settings_from_env() -> float:
    return float(os.environ["LLM_TEMPERATURE"])


def load_settings_from_file(text: str) -> int:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return int(parser["llm"]["max_retries"])


def summary_fields(parsed: Any) -> str:
    return str(parsed["summary"]["title"])


def check_stop_reason(stop_reason: str) -> None:
    if stop_reason == "refusal":
        raise RuntimeError(f"Claude declined to answer: stop_reason={stop_reason}")


def check_finish_reason(finish_reason: str) -> None:
    if finish_reason != "stop":
        raise ValueError(f"unexpected finish_reason={finish_reason!r} from the model")


async def _wait_briefly() -> None:
    await asyncio.wait_for(asyncio.sleep(10), timeout=0.001)


async def _cancelled_task() -> None:
    task = asyncio.get_running_loop().create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    task.cancel()
    await task


def _future_cancelled() -> None:
    pending = concurrent.futures.Future[None]()
    pending.cancel()
    pending.result()


def _memory_error() -> None:
    raise MemoryError


def _group(*members: BaseException) -> BaseException:
    async def fail(exc: BaseException) -> None:
        raise exc

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            for member in members:
                group.create_task(fail(member))

    return _araises(main)


def _wrapped_group(*members: BaseException) -> BaseException:
    def call() -> None:
        try:
            raise _group(*members)
        except BaseExceptionGroup as exc:
            raise RuntimeError("Agent run failed") from exc

    return _raises(call)


def _rate_limit_error() -> BaseException:
    return _openai_status(
        429, _openai_err("Rate limit reached for gpt-4o on tokens per min (TPM).", "tokens", "rate_limit_exceeded")
    )


def _app_cases() -> list[Case]:
    corrupt = zlib.compress(b'{"answer": 42}')[:-6] + b"\x00\x01"
    return [
        Case(
            "app.tool_dispatch.missing_argument",
            "tool_call_malformed",
            _raises(dispatch_tool, "get_order_status", '{"order_id": "A-17"}'),
        ),
        Case(
            "app.tool_dispatch.unexpected_argument",
            "tool_call_malformed",
            _raises(dispatch_tool, "get_order_status", '{"order_id": "A-17", "include_history": true, "verbose": 1}'),
        ),
        Case(
            "app.tool_dispatch.arguments_not_json",
            "tool_call_malformed",
            _raises(dispatch_tool, "get_order_status", "{'order_id': 'A-17'}"),
        ),
        Case("app.tool_dispatch.unknown_tool", "tool_call_malformed", _raises(dispatch_tool, "cancel_order", "{}")),
        Case(
            "app.tool_validate.arguments_model",
            "tool_call_malformed",
            _raises(run_validated_tool, '{"order_id": "A-17"}'),
        ),
        Case("app.response_parse.empty_choices", "missing_data", _raises(first_choice_text, {"choices": []})),
        Case("app.retrieval.empty_hits", "missing_data", _raises(top_passage, [])),
        Case("app.record_lookup.missing_customer", "missing_data", _raises(customer_profile, "cus_404")),
        Case("app.blob_store.zlib_truncated", "corrupted_data", _raises(load_blob, corrupt)),
        Case("app.blob_store.utf8", "corrupted_data", _raises(read_transcript, b"caf\xe9 au lait \xff")),
        Case("app.blob_store.pickle", "corrupted_data", _raises(load_cached_embeddings, b"\x80\x04\x95garbage")),
        Case("app.blob_store.gzip", "corrupted_data", _raises(read_gzipped_chunk, b"\x1f\x8b\x08\x00garbage")),
        Case(
            "app.blob_store.json_control_char",
            "corrupted_data",
            _raises(load_blob, zlib.compress(b'{"answer": "a\x00b"}')),
        ),
        Case(
            "app.blob_store.base64",
            "corrupted_data",
            _raises(lambda: base64.b64decode("eyJhbnN3ZXIiOiA0Mn0", validate=True)),
        ),
        Case(
            "app.config_env.float",
            "configuration",
            _with_env(load_settings_from_env, LLM_TEMPERATURE="warm"),
        ),
        Case(
            "app.config_file.int",
            "configuration",
            _raises(load_settings_from_file, "[llm]\nmax_retries = three\n"),
        ),
        Case("app.parsed_output.string_indices", "schema_mismatch", _raises(summary_fields, {"summary": "Revenue"})),
        Case("app.parsed_output.none_subscript", "schema_mismatch", _raises(summary_fields, {"summary": None})),
        Case("app.empty_message.timeout_error", "timeout", _araises(_wait_briefly)),
        Case("app.empty_message.asyncio_cancelled", "cancelled", _araises(_cancelled_task)),
        Case("app.empty_message.futures_cancelled", "cancelled", _raises(_future_cancelled)),
        Case("app.empty_message.memory_error", "out_of_memory", _raises(_memory_error)),
        Case("app.stop_reason.refusal", "refusal", _raises(check_stop_reason, "refusal")),
        Case("app.finish_reason.refusal", "refusal", _raises(check_finish_reason, "refusal")),
        Case(
            "app.exception_group.rate_limit",
            "rate_limit",
            _group(_rate_limit_error()),
        ),
        Case(
            "app.exception_group.wrapped_rate_limit",
            "rate_limit",
            _wrapped_group(_rate_limit_error()),
        ),
        Case(
            "app.exception_group.timeout_and_wrapper",
            "timeout",
            _group(TimeoutError("The read operation timed out"), ValueError("Task failed")),
        ),
        Case(
            "app.orjson_blob.decode",
            "corrupted_data",
            _raises(lambda: orjson.loads(zlib.decompress(zlib.compress(b'{"a": "\xff"}')))),
        ),
    ]


def _with_env(
    call: Callable[[], Any], *, declared: tuple[type[BaseException], ...] = (), **values: str | None
) -> BaseException:
    """What ``call`` raises with the environment set (a value) or unset (``None``), of a ``declared`` type if any."""
    with _env(**values):
        return _raises_as(declared, call)


def _more_class_cases() -> list[Case]:
    import mistralai.client.errors as mistral_errors

    response = httpx2.Response(200, request=httpx2.Request("POST", "https://api.openai.com/v1/chat/completions"))
    cases = [
        Case(
            "sdkclass.openai.response_validation.constructed",
            "schema_mismatch",
            _raises(_raise, openai.APIResponseValidationError(response=response, body={"choices": None})),
        ),
        Case(
            "sdkclass.anthropic.precondition.412",
            "bad_request",
            _anthropic_status(412, "invalid_request_error", "The file is still being processed."),
        ),
        Case(
            "sdkclass.anthropic.permission.403",
            "auth",
            _anthropic_status(
                403, "permission_error", "Your API key does not have permission to use the specified resource."
            ),
        ),
        Case(
            "sdkclass.mistral.no_response.constructed",
            "connection",
            _raises(_raise, mistral_errors.NoResponseError()),
        ),
    ]
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True", TIKTOKEN_CACHE_DIR=os.environ.get("TIKTOKEN_CACHE_DIR")):
        import litellm

        cases += [
            Case(
                "sdkclass.litellm.payment_required.constructed",
                "quota_exceeded",
                _litellm_raise(
                    litellm.PaymentRequiredError,
                    message="OpenrouterException - This request requires more credits, or fewer max_tokens.",
                    model="openrouter/anthropic/claude-sonnet-4-5",
                    llm_provider="openrouter",
                ),
            ),
            Case(
                "sdkclass.litellm.timeout.constructed",
                "timeout",
                _litellm_raise(
                    litellm.Timeout,
                    message="AzureException Timeout - Request timed out",
                    model="azure/gpt-4o",
                    llm_provider="azure",
                ),
            ),
            Case(
                "sdkclass.litellm.not_found.constructed",
                "not_found",
                _litellm_raise(
                    litellm.NotFoundError,
                    message="VertexAIException - Publisher Model `gemini-1.0-pro` was not found",
                    model="vertex_ai/gemini-1.0-pro",
                    llm_provider="vertex_ai",
                ),
            ),
            Case(
                "sdkclass.litellm.guardrail.constructed",
                "content_filter",
                _litellm_raise(
                    litellm.exceptions.GuardrailRaisedException,
                    guardrail_name="lakera-prompt-injection",
                    message="Violated content safety policy",
                    blocked_content=True,
                ),
            ),
            Case(
                "sdkclass.litellm.api_connection.constructed",
                "connection",
                _litellm_raise(
                    litellm.APIConnectionError,
                    message="OllamaException - [Errno 111] Connection refused",
                    model="ollama/llama3",
                    llm_provider="ollama",
                ),
            ),
        ]
    return cases


class Toolbox:
    def search_flights(self, origin: str, destination: str) -> list[str]:
        return [f"{origin}-{destination}"]


def call_toolbox_method(name: str, arguments: dict[str, Any]) -> Any:
    return getattr(Toolbox(), name)(**arguments)


def execute_tool_call(tool_call: dict[str, Any]) -> Any:
    arguments = orjson.loads(tool_call["function"]["arguments"])
    return call_toolbox_method(tool_call["function"]["name"], arguments)


def answer_from_rag(query: str, results: dict[str, list[list[str]]]) -> str:
    return results["documents"][0][0]


def next_unprocessed_document(documents: list[str]) -> str:
    return next(doc for doc in documents if doc)


def embedding_for_chunk(chunk_id: str, embeddings: dict[str, list[float]]) -> list[float]:
    return embeddings[chunk_id]


def max_tokens_setting() -> int:
    return int(os.getenv("OPENAI_MAX_TOKENS"))  # type: ignore[arg-type]


def parse_timeout_setting(raw: str) -> float:
    return float(raw)


def read_cached_vector(blob: bytes) -> tuple[float, ...]:
    import struct

    return struct.unpack("<4d", blob)


def decompress_archive(blob: bytes) -> bytes:
    import lzma

    return lzma.decompress(blob)


def wait_for_worker() -> Any:
    pending = concurrent.futures.Future[None]()
    return pending.result(timeout=0.001)


class ModelRefusalError(Exception):
    pass


def require_answer(stop_reason: str, text: str) -> str:
    if stop_reason == "refusal":
        raise ModelRefusalError(f"model returned stop_reason={stop_reason!r}")
    return text


def score_batch(items: list[str]) -> None:
    errors: list[Exception] = []
    for item in items:
        try:
            json.loads(item)
        except json.JSONDecodeError as exc:
            errors.append(exc)
    if errors:
        raise ExceptionGroup("scoring failed for 2 items", errors)


async def _anyio_group() -> None:
    import anyio

    async def fetch() -> None:
        raise _rate_limit_error()

    async with anyio.create_task_group() as group:
        group.start_soon(fetch)


def _more_app_cases() -> list[Case]:
    return [
        Case(
            "app.toolbox.unknown_method",
            "tool_call_malformed",
            _raises(execute_tool_call, {"function": {"name": "book_hotel", "arguments": '{"city": "Oslo"}'}}),
        ),
        Case(
            "app.toolbox.wrong_argument",
            "tool_call_malformed",
            _raises(
                execute_tool_call,
                {"function": {"name": "search_flights", "arguments": '{"origin": "OSL", "to": "LHR"}'}},
            ),
        ),
        Case(
            "app.toolbox.arguments_truncated",
            "tool_call_malformed",
            _raises(
                execute_tool_call, {"function": {"name": "search_flights", "arguments": '{"origin": "OSL", "dest'}}
            ),
        ),
        Case("app.rag.empty_documents", "missing_data", _raises(answer_from_rag, "q", {"documents": [[]]})),
        Case("app.rag.no_document_left", "missing_data", _raises(next_unprocessed_document, ["", ""])),
        Case("app.rag.missing_embedding", "missing_data", _raises(embedding_for_chunk, "chunk-9", {})),
        Case("app.settings.env_unset_int", "configuration", _with_env(max_tokens_setting, OPENAI_MAX_TOKENS=None)),
        Case("app.settings.timeout_float", "configuration", _raises(parse_timeout_setting, "30s")),
        Case("app.vector_cache.struct", "corrupted_data", _raises(read_cached_vector, b"\x00" * 12)),
        Case("app.vector_cache.lzma", "corrupted_data", _raises(decompress_archive, b"not an xz stream")),
        Case("app.worker.futures_timeout", "timeout", _raises(wait_for_worker)),
        Case("app.refusal_type.stop_reason", "refusal", _raises(require_answer, "refusal", "")),
        Case("app.batch_group.json_members", "invalid_json", _raises(score_batch, ["{", '{"a": 1,}'])),
        Case("app.anyio_group.rate_limit", "rate_limit", _araises(_anyio_group)),
    ]


def build_broad_cases() -> list[Case]:
    """This module's cases, the second wave's (:mod:`tests.corpus.unseen`, which builds on this one's helpers),
    the third's (:mod:`tests.corpus.wave3`), the fourth's (:mod:`tests.corpus.wave4`), the fifth's
    (:mod:`tests.corpus.wave5`, which builds on this one's helpers too), the sixth's (:mod:`tests.corpus.wave6`),
    the seventh's (:mod:`tests.corpus.wave7`), the eighth's (:mod:`tests.corpus.wave8`), the rule writer's
    development-only family cases (:mod:`tests.corpus.wave8_families`, :mod:`tests.corpus.wave10_families`,
    :mod:`tests.corpus.wave11_families`, :mod:`tests.corpus.wave12_data`, :mod:`tests.corpus.wave12_providers`,
    :mod:`tests.corpus.wave13_families`, :mod:`tests.corpus.wave15_families`,
    :mod:`tests.corpus.wave15b_families`), the ninth's
    (:mod:`tests.corpus.wave9`), the tenth's (:mod:`tests.corpus.wave10`), the eleventh's
    (:mod:`tests.corpus.wave11`) and the thirteenth's (:mod:`tests.corpus.wave13`)."""
    from tests.corpus.unseen import build_unseen_cases
    from tests.corpus.wave5 import build_wave5_cases
    from tests.corpus.wave6 import build_wave6_cases
    from tests.corpus.wave7 import build_wave7_cases
    from tests.corpus.wave8 import build_wave8_cases
    from tests.corpus.wave8_families import build_wave8_family_cases
    from tests.corpus.wave9 import build_wave9_cases
    from tests.corpus.wave10 import build_wave10_cases
    from tests.corpus.wave10_families import build_wave10_family_cases
    from tests.corpus.wave11 import build_wave11_cases
    from tests.corpus.wave11_families import build_wave11_family_cases
    from tests.corpus.wave12_data import build_wave12_data_cases
    from tests.corpus.wave12_providers import build_wave12_provider_cases
    from tests.corpus.wave13 import build_wave13_cases
    from tests.corpus.wave13_families import build_wave13_family_cases
    from tests.corpus.wave15_families import build_wave15_family_cases
    from tests.corpus.wave15b_families import build_wave15b_family_cases

    return [
        *_more_class_cases(),
        *_more_app_cases(),
        *_openai_class_cases(),
        *_anthropic_class_cases(),
        *_gemini_class_cases(),
        *_mistral_class_cases(),
        *_litellm_class_cases(),
        *_catalogue_cases(),
        *_app_cases(),
        *build_unseen_cases(),
        *build_wave3_cases(),
        *build_wave4_cases(),
        *build_wave5_cases(),
        *build_wave6_cases(),
        *build_wave7_cases(),
        *build_wave8_cases(),
        *build_wave8_family_cases(),
        *build_wave9_cases(),
        *build_wave10_family_cases(),
        *build_wave10_cases(),
        *build_wave11_family_cases(),
        *build_wave11_cases(),
        *build_wave12_data_cases(),
        *build_wave12_provider_cases(),
        *build_wave13_cases(),
        *build_wave13_family_cases(),
        *build_wave15_family_cases(),
        *build_wave15b_family_cases(),
    ]
