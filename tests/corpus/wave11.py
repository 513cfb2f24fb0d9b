"""An eleventh wave of broad cases, written and split before anything was measured on them (issue 19, eleventh session).

Sources, none of them public issue threads, none repeating waves 1-10's calls and messages (every case's chain was
checked against every earlier case's), from the population the kept-aside set is made of, each case declaring the
exception type it expects (:func:`tests.corpus.sdk_errors._raises_as`):

* **LiteLLM's own mapping of provider errors** (``litellm/litellm_core_utils/exception_mapping_utils.py``, read for
  wordings and statuses no earlier case used), raised by its ``exception_type`` as ``completion`` calls it, from a
  provider exception carrying the status and the words its mapping reads: Replicate's throttling and input length,
  SageMaker's (TGI's) token budget, Cohere's parameter types and token count, Hugging Face's length limit, Vertex
  AI's disabled API and capacity 429, Cloudflare Workers AI's missing property, Azure's missing deployment and unset
  key, Bedrock's conversation order and model identifier, NLP Cloud's input length, Aleph Alpha's context length.
* **the SDKs over mock transports**: Mistral's service-tier capacity 429, Gemini's function-response ordering 400,
  Anthropic's ``tool_use`` ids without ``tool_result`` blocks, OpenAI's async client inside an ``asyncio.TaskGroup``
  (an exception group over a 429) and its stream cut by a read timeout, the Responses API's empty output.
* **built-ins in application code**: tool dispatch (positional-only and surplus arguments, arguments as a Python
  literal or cut short, an enum argument, jsonschema's extra and mistyped properties, pydantic's forbidden extras, a
  tool module without the function), response parsing (orjson on NaN and trailing commas, pydantic on a number in
  words and an unlisted literal, a list indexed by a key, Gemini's ``text`` absent), retrieval (numpy's argmax of no
  scores, a heap of no candidates, a document id absent), configuration (tomllib's duplicate key and bare string,
  configparser's interpolation and duplicate section, argparse's invalid choice, an unset variable, a JSON settings
  file with comments, a dataclass's range check, pydantic-settings' number and list fields), blob storage (gzip cut
  short, zip's missing member and CRC, base64's strict alphabet and length, SQLite's JSON functions, csv's strict
  quoting, UTF-16 cut short, numpy buffers), concurrency (``asyncio.timeout``, ``wait_for``, ``as_completed``,
  ``Future.result``, a cancelled task) and streaming (a tool call's arguments cut at the token limit).

SDK and library errors are raised for real; provider bodies are written in the shape and words each provider
documents for the failure. Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in
``broad_split.json`` before anything was measured on them: 71 cases in 57 scenarios, 23 of them sealed (25 cases).

Checked against every earlier case's chain (types, messages and frames) before the split: three cases written at
first were dropped or changed as repeats of an earlier case's provider body or settings field (Mistral's service-tier
capacity 429, OpenAI's ``max_tokens`` unsupported on reasoning models, pydantic-settings' list field parsed from the
environment), one more as a repeat of a library call (tomllib's duplicate key, now a duplicate table). No case repeats
an earlier chain with its frames. Where only the innermost exception's text and the library frames that raised it match
an earlier case's (16 cases: ``list index out of range``, ``Unterminated string``, orjson's trailing comma, ``list
indices must be integers``, ``json.loads(None)``, numpy's empty argmax and buffer size, ``heappop``, a JSON file's
comments, gzip cut short, base64's alphabet, csv's strict quoting, UTF-16 cut short, an empty ``TimeoutError`` from
``wait_for`` and ``Future.result``, an empty ``CancelledError``), the application code that raised it differs, as in
wave 10.

Baseline, rules 2026.12.02-9 and fallback lr-6d86e21b8f (main at 1f14db1), nothing changed,
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave11``):

* development, 46 cases: 91.3 % (as raised 91.3 %, masked structlog 91.3 %, masked text 93.5 %, from None 89.1 %).
  By label (cases): tool_call_malformed 100 % (8), configuration 96.4 % (7), corrupted_data 87.5 % (6), missing_data
  100 % (5), timeout 100 % (5), bad_request and context_length_exceeded 100 % (3 each), not_found 50 % (2),
  schema_mismatch 100 % (2), auth, invalid_json and rate_limit 100 %, connection and overloaded 0 % (one each). Its
  misses, by kind: Vertex AI's 429 "temporarily out of capacity" read as a rate limit (``message.rate_limit``),
  Bedrock's "provided model identifier is invalid" under LiteLLM's ``BadRequestError`` read as a bad request,
  Ollama's refused connection under LiteLLM's ``ServiceUnavailableError`` read as a server error, SQLite's
  ``malformed JSON`` on a stored payload left ``unknown`` (but in the masked text form), a dataclass's range check on
  a setting left ``unknown`` in the ``from None`` form.
* sealed, 25 cases: 96.0 % in every form. Cases by label: bad_request, configuration and context_length_exceeded 4
  each, missing_data 3, corrupted_data and timeout 2 each, one each of cancelled, not_found, rate_limit,
  schema_mismatch, tool_call_malformed and truncation.
* the whole sealed part: 87.06 % (342 cases) -> 87.67 % (367; as raised 87.7 %, masked structlog 88.3 %, masked text
  89.7 %, from None 85.0 %); the whole development part 98.78 % (738) -> 98.34 % (784). The SDK corpus 99.88 %,
  wrapper-only text 100 % ``unknown``, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import concurrent.futures
import configparser
import csv
import dataclasses
import enum
import gzip
import heapq
import io
import json
import os
import sqlite3
import threading
import tomllib
import types
import zipfile
from collections.abc import Callable
from typing import Any, Literal

import anthropic
import httpx
import jsonschema
import numpy as np
import openai
import orjson
import pydantic
import pydantic_settings
from google.genai import errors as genai_errors
from mistralai.client import errors as mistral_errors

from tests.corpus.broad import _with_env
from tests.corpus.sdk_errors import (
    Case,
    _anthropic_client,
    _araises,
    _env,
    _gemini_client,
    _import_litellm,
    _json_handler,
    _json_handler2,
    _mistral_client,
    _openai_client,
    _openai_err,
    _raises_as,
)

# --------------------------------------------------------------------------------------------------
# LiteLLM's mapping of provider errors


class ProviderHTTPError(Exception):
    """What a LiteLLM provider handler raises before the mapping: the provider's status and its words."""

    def __init__(self, status_code: int, message: str, url: str) -> None:
        self.status_code = status_code
        self.message = message
        self.request = httpx.Request("POST", url)
        self.response = httpx.Response(status_code, request=self.request)
        super().__init__(message)


def _litellm_mapped(provider: str, model: str, status: int, message: str, url: str) -> BaseException:
    """The exception ``litellm.completion`` raises once its mapping has read the provider's error."""
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True", TIKTOKEN_CACHE_DIR=os.environ.get("TIKTOKEN_CACHE_DIR")):
        litellm = _import_litellm()
        from litellm.litellm_core_utils.exception_mapping_utils import exception_type

        def call_provider() -> None:
            try:
                raise ProviderHTTPError(status, message, url)
            except ProviderHTTPError as error:
                exception_type(model=model, original_exception=error, custom_llm_provider=provider)

        saved, litellm.suppress_debug_info = litellm.suppress_debug_info, True
        try:
            return _raises_as(openai.APIError, call_provider)
        finally:
            litellm.suppress_debug_info = saved


def _litellm_cases() -> list[Case]:
    replicate = "https://api.replicate.com/v1/models/meta/meta-llama-3-70b-instruct/predictions"
    return [
        Case(
            "wave11.litellm.replicate.throttled",
            "rate_limit",
            _litellm_mapped(
                "replicate",
                "replicate/meta/meta-llama-3-70b-instruct",
                429,
                "Request was throttled. Expected available in 8 seconds.",
                replicate,
            ),
        ),
        Case(
            "wave11.litellm.replicate.input_too_long",
            "context_length_exceeded",
            _litellm_mapped(
                "replicate",
                "replicate/meta/meta-llama-3-70b-instruct",
                422,
                "Prediction failed: input is too long (9214 tokens); this model accepts at most 8192",
                replicate,
            ),
        ),
        Case(
            "wave11.litellm.sagemaker.token_budget",
            "context_length_exceeded",
            _litellm_mapped(
                "sagemaker",
                "sagemaker/jumpstart-dft-meta-textgeneration-llama-3-8b",
                424,
                "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 3862 `inputs` "
                "tokens and 512 `max_new_tokens`",
                "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/llama-3-8b/invocations",
            ),
        ),
        Case(
            "wave11.litellm.cohere.parameter_type",
            "bad_request",
            _litellm_mapped(
                "cohere",
                "command-r-plus",
                400,
                "invalid type: parameter temperature is of type string but should be of type number",
                "https://api.cohere.com/v1/chat",
            ),
        ),
        Case(
            "wave11.litellm.cohere.token_count",
            "context_length_exceeded",
            _litellm_mapped(
                "cohere",
                "command-r-plus",
                400,
                "too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 131977. "
                "Try using a shorter prompt",
                "https://api.cohere.com/v1/chat",
            ),
        ),
        Case(
            "wave11.litellm.huggingface.length_limit",
            "context_length_exceeded",
            _litellm_mapped(
                "huggingface",
                "huggingface/HuggingFaceH4/zephyr-7b-beta",
                422,
                "Input validation error: `inputs` must have less than 4096 tokens. Given: 5120 (length limit exceeded)",
                "https://api-inference.huggingface.co/models/HuggingFaceH4/zephyr-7b-beta",
            ),
        ),
        Case(
            "wave11.litellm.vertex.api_not_enabled",
            "configuration",
            _litellm_mapped(
                "vertex_ai",
                "gemini-2.0-flash",
                403,
                "Vertex AI API has not been used in project acme-rag-prod before or it is disabled. Enable it by "
                "visiting the console, then retry.",
                "https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-rag-prod/locations/europe-west4",
            ),
        ),
        Case(
            "wave11.litellm.vertex.out_of_capacity",
            "overloaded",
            _litellm_mapped(
                "vertex_ai",
                "gemini-2.0-flash",
                429,
                "429 Unable to submit request because the service is temporarily out of capacity. Try again later.",
                "https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-rag-prod/locations/europe-west4",
            ),
        ),
        Case(
            "wave11.litellm.cloudflare.required_property",
            "bad_request",
            _litellm_mapped(
                "cloudflare",
                "cloudflare/@cf/meta/llama-3.1-8b-instruct",
                400,
                "AiError: Bad input: Error: must have required property 'prompt', must have required property "
                "'messages', must match exactly one schema in oneOf",
                "https://api.cloudflare.com/client/v4/accounts/4f1c/ai/run/@cf/meta/llama-3.1-8b-instruct",
            ),
        ),
        Case(
            "wave11.litellm.azure.deployment_not_found",
            "not_found",
            _litellm_mapped(
                "azure",
                "azure/gpt-4o-support",
                404,
                "DeploymentNotFound: The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
                "https://contoso-support.openai.azure.com/openai/deployments/gpt-4o-support/chat/completions",
            ),
        ),
        Case(
            "wave11.litellm.azure.key_option",
            "configuration",
            _litellm_mapped(
                "azure",
                "azure/gpt-4o-support",
                500,
                "The api_key client option must be set either by passing api_key to the client or by setting the "
                "AZURE_OPENAI_API_KEY environment variable",
                "https://contoso-support.openai.azure.com/openai/deployments/gpt-4o-support/chat/completions",
            ),
        ),
        Case(
            "wave11.litellm.bedrock.conversation_start",
            "bad_request",
            _litellm_mapped(
                "bedrock",
                "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
                400,
                "A conversation must start with a user message. Try again with a conversation that starts with a "
                "user message.",
                "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1:0/converse",
            ),
        ),
        Case(
            "wave11.litellm.bedrock.model_identifier",
            "not_found",
            _litellm_mapped(
                "bedrock",
                "bedrock/anthropic.claude-3-haiku-20240307-v9:0",
                400,
                "The provided model identifier is invalid.",
                "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v9:0/converse",
            ),
        ),
        Case(
            "wave11.litellm.nlp_cloud.input_length",
            "context_length_exceeded",
            _litellm_mapped(
                "nlp_cloud",
                "nlp_cloud/finetuned-llama-3-70b",
                400,
                '{"detail": "Input text length should not exceed 4096 tokens for this model"}',
                "https://api.nlpcloud.io/v1/gpu/finetuned-llama-3-70b/chatbot",
            ),
        ),
        Case(
            "wave11.litellm.aleph_alpha.context",
            "context_length_exceeded",
            _litellm_mapped(
                "aleph_alpha",
                "luminous-supreme-control",
                400,
                "This is longer than the model's maximum context length of 2048 tokens: 2312 tokens in the prompt",
                "https://api.aleph-alpha.com/complete",
            ),
        ),
        Case(
            "wave11.litellm.together.private_key",
            "auth",
            _litellm_mapped(
                "together_ai",
                "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
                401,
                '{"error": "invalid private key"}',
                "https://api.together.xyz/v1/chat/completions",
            ),
        ),
        Case(
            "wave11.litellm.together.origin_timeout",
            "timeout",
            _litellm_mapped(
                "together_ai",
                "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
                524,
                "error code: 524",
                "https://api.together.xyz/v1/chat/completions",
            ),
        ),
        Case(
            "wave11.litellm.ai21.prompt_tokens",
            "context_length_exceeded",
            _litellm_mapped(
                "ai21",
                "j2-ultra",
                400,
                "Prompt has too many tokens: 8412 tokens, the model supports up to 8191",
                "https://api.ai21.com/studio/v1/j2-ultra/complete",
            ),
        ),
        Case(
            "wave11.litellm.ollama.server_down",
            "connection",
            _litellm_mapped(
                "ollama",
                "ollama/llama3.1:8b",
                500,
                "HTTPConnectionPool(host='localhost', port=11434): Max retries exceeded with url: /api/generate "
                "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish a new "
                "connection: [Errno 111] Connection refused'))",
                "http://localhost:11434/api/generate",
            ),
        ),
        Case(
            "wave11.litellm.ollama.read_timed_out",
            "timeout",
            _litellm_mapped(
                "ollama",
                "ollama/llama3.1:8b",
                500,
                "HTTPConnectionPool(host='localhost', port=11434): Read timed out. (read timeout=600)",
                "http://localhost:11434/api/generate",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# The SDKs over mock transports


def summarise_with_mistral(report: str) -> str:
    client = _mistral_client(
        _json_handler(
            400,
            {
                "object": "error",
                "message": "Invalid model: mistral-medum-latest",
                "type": "invalid_model",
                "param": None,
                "code": "1500",
            },
        )
    )
    reply = client.chat.complete(model="mistral-medum-latest", messages=[{"role": "user", "content": report}])
    return str(reply.choices[0].message.content)


def answer_after_function_call(question: str) -> str:
    message = (
        "Please ensure that function response turn comes immediately after a function call turn. And the number of "
        "function response parts should be equal to number of function call parts of the function call turn."
    )
    client = _gemini_client(
        _json_handler(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
    )
    contents = [
        {"role": "user", "parts": [{"text": question}]},
        {"role": "user", "parts": [{"function_response": {"name": "get_order", "response": {"status": "shipped"}}}]},
    ]
    return client.models.generate_content(model="gemini-2.5-pro", contents=contents).text or ""


def continue_after_tool_use(history: list[dict[str, Any]]) -> str:
    client = _anthropic_client(
        _json_handler2(
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "messages.2: `tool_use` ids were found without `tool_result` blocks immediately "
                    "after: toolu_01HJ7gXq9. Each `tool_use` block must have a corresponding `tool_result` block in "
                    "the next message.",
                },
            },
        )
    )
    reply = client.messages.create(model="claude-opus-4-1", max_tokens=2048, messages=history)
    return "".join(block.text for block in reply.content if block.type == "text")


async def enrich_in_parallel(questions: list[str]) -> list[str]:
    body = _openai_err(
        "Rate limit reached for gpt-4.1 in organization org-8Hq2 on tokens per min (TPM): Limit 30000, Used 29512, "
        "Requested 1840. Please try again in 2.704s.",
        "tokens",
        "rate_limit_exceeded",
    )
    rate_limited = _json_handler(429, body)
    requests = 0

    async def first_limited_others_slow(request: httpx.Request) -> httpx.Response:
        # the later calls are still waiting when the group cancels them: one member in the group on every run
        # (two calls answered at once made one or two members by the scheduling, and the training set differ)
        nonlocal requests
        requests += 1
        if requests > 1:
            await asyncio.sleep(60)
        return rate_limited(request)  # type: ignore[no-any-return]

    client = openai.AsyncOpenAI(
        api_key="sk-proj-test",
        max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(first_limited_others_slow)),
    )

    async def ask(question: str) -> str:
        reply = await client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": question}])
        return reply.choices[0].message.content or ""

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(ask(question)) for question in questions]
    return [task.result() for task in tasks]


class _StalledStream(httpx.SyncByteStream):
    """An SSE body whose first event arrives and whose second never does."""

    def __iter__(self) -> Any:
        yield b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":'
        yield b'[{"index":0,"delta":{"content":"The quarter"},"finish_reason":null}]}\n\n'
        raise httpx.ReadTimeout("The read operation timed out")


def streamed_summary(report: str) -> str:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_StalledStream())

    stream = _openai_client(handler).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": report}], stream=True
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream)


def responses_answer(question: str) -> str:
    body = {
        "id": "resp_68c1",
        "object": "response",
        "created_at": 1764700000,
        "status": "completed",
        "model": "gpt-4.1-mini",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    response = _openai_client(_json_handler(200, body)).responses.create(model="gpt-4.1-mini", input=question)
    return response.output[0].content[0].text  # type: ignore[union-attr]


def describe_chart(question: str) -> str:
    message = (
        "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again."
    )
    client = _gemini_client(
        _json_handler(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
    )
    return client.models.generate_content(model="gemini-2.5-flash", contents=[question, ""]).text or ""


def creative_rewrite(text: str) -> str:
    client = _anthropic_client(
        _json_handler2(
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "`temperature` and `top_p` cannot both be specified for this model. "
                    "Please use only one.",
                },
            },
        )
    )
    reply = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": text}],
        extra_body={"temperature": 0.9, "top_p": 0.95},  # sampling settings this SDK no longer names
    )
    return "".join(block.text for block in reply.content if block.type == "text")


def _sdk_cases() -> list[Case]:
    return [
        Case(
            "wave11.gemini.empty_text.part",
            "bad_request",
            _raises_as(genai_errors.ClientError, describe_chart, "Describe the attached chart."),
        ),
        Case(
            "wave11.anthropic.sampling.both_set",
            "bad_request",
            _raises_as(anthropic.BadRequestError, creative_rewrite, "Rewrite this slogan three ways."),
        ),
        Case(
            "wave11.mistral.model.invalid",
            "not_found",
            _raises_as(mistral_errors.SDKError, summarise_with_mistral, "Q3 revenue grew 4 %."),
        ),
        Case(
            "wave11.gemini.function_response.order",
            "bad_request",
            _raises_as(genai_errors.ClientError, answer_after_function_call, "Where is order 7731?"),
        ),
        Case(
            "wave11.anthropic.tool_use.without_result",
            "bad_request",
            _raises_as(
                anthropic.BadRequestError,
                continue_after_tool_use,
                [
                    {"role": "user", "content": "Where is order 7731?"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": "toolu_01HJ7gXq9", "name": "get_order", "input": {"id": 7731}}
                        ],
                    },
                    {"role": "user", "content": "And when will it arrive?"},
                ],
            ),
        ),
        Case(
            "wave11.openai.task_group.rate_limit",
            "rate_limit",
            _araises(lambda: enrich_in_parallel(["a", "b"]), declared=(ExceptionGroup,)),
        ),
        Case(
            "wave11.openai.stream.read_timeout",
            "timeout",
            _raises_as(openai.APITimeoutError, streamed_summary, "Summarise the quarter."),
        ),
        Case(
            "wave11.openai.responses.empty_output",
            "missing_data",
            _raises_as(IndexError, responses_answer, "What changed in Q3?"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Tool dispatch: a tool called with the model's arguments


def convert_units(value: float, /, unit: str) -> float:
    return value * {"km": 1000.0, "mi": 1609.34}[unit]


def nearest_store(latitude: float, longitude: float) -> str:
    return f"store near {latitude:.2f},{longitude:.2f}"


TOOL_FUNCTIONS: dict[str, Callable[..., Any]] = {"convert_units": convert_units, "nearest_store": nearest_store}


def call_tool_with_keywords(name: str, arguments_json: str) -> Any:
    return TOOL_FUNCTIONS[name](**json.loads(arguments_json))


def call_tool_with_positionals(name: str, arguments_json: str) -> Any:
    return TOOL_FUNCTIONS[name](*json.loads(arguments_json))


class NearestStoreArgs(pydantic.BaseModel):
    latitude: float
    longitude: float


def nearest_store_arguments(arguments_json: str) -> NearestStoreArgs:
    return pydantic.TypeAdapter(NearestStoreArgs).validate_json(arguments_json)


def parse_tool_arguments(tool_call: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = json.loads(tool_call["function"]["arguments"])
    return arguments


class Priority(enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    URGENT = "urgent"


def open_ticket_tool(arguments: dict[str, Any]) -> str:
    priority = Priority(arguments["priority"])
    return f"ticket opened at {priority.value} priority"


BOOKING_SCHEMA = {
    "type": "object",
    "properties": {"room": {"type": "string"}, "nights": {"type": "integer", "minimum": 1}},
    "required": ["room", "nights"],
    "additionalProperties": False,
}


def book_room_tool(arguments: dict[str, Any]) -> str:
    jsonschema.validate(arguments, BOOKING_SCHEMA)
    return f"booked {arguments['room']} for {arguments['nights']} nights"


class FlightSearchArgs(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    origin: str
    destination: str


def search_flights_from_call(arguments_json: str) -> FlightSearchArgs:
    return FlightSearchArgs.model_validate_json(arguments_json)


agent_tools = types.ModuleType("agent_tools")
agent_tools.nearest_store = nearest_store  # type: ignore[attr-defined]


def dispatch_to_tool_module(name: str, arguments: dict[str, Any]) -> Any:
    return getattr(agent_tools, name)(**arguments)


def _tool_cases() -> list[Case]:
    return [
        Case(
            "wave11.tools.keywords.positional_only",
            "tool_call_malformed",
            _raises_as(TypeError, call_tool_with_keywords, "convert_units", '{"value": 12.5, "unit": "km"}'),
        ),
        Case(
            "wave11.tools.positionals.surplus",
            "tool_call_malformed",
            _raises_as(TypeError, call_tool_with_positionals, "nearest_store", "[59.91, 10.75, 5]"),
        ),
        Case(
            "wave11.tools.arguments.python_literal",
            "tool_call_malformed",
            _raises_as(pydantic.ValidationError, nearest_store_arguments, "{'latitude': 59.91, 'longitude': 10.75}"),
        ),
        Case(
            "wave11.tools.arguments.cut_short",
            "tool_call_malformed",
            _raises_as(
                json.JSONDecodeError,
                parse_tool_arguments,
                {"id": "call_10", "function": {"name": "nearest_store", "arguments": '{"latitude": 59.91, "longi'}},
            ),
        ),
        Case(
            "wave11.tools.enum_argument.unknown_member",
            "tool_call_malformed",
            _raises_as(ValueError, open_ticket_tool, {"priority": "critical", "summary": "printer on fire"}),
        ),
        Case(
            "wave11.tools.jsonschema.extra_property",
            "tool_call_malformed",
            _raises_as(jsonschema.ValidationError, book_room_tool, {"room": "double", "nights": 2, "breakfast": True}),
        ),
        Case(
            "wave11.tools.jsonschema.mistyped",
            "tool_call_malformed",
            _raises_as(jsonschema.ValidationError, book_room_tool, {"room": "double", "nights": "two"}),
        ),
        Case(
            "wave11.tools.pydantic_forbid.extra",
            "tool_call_malformed",
            _raises_as(
                pydantic.ValidationError,
                search_flights_from_call,
                '{"origin": "OSL", "destination": "LIS", "cabin": "business"}',
            ),
        ),
        Case(
            "wave11.tools.module.missing_function",
            "tool_call_malformed",
            _raises_as(AttributeError, dispatch_to_tool_module, "reserve_table", {"party_size": 4}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Response parsing


class Sentiment(pydantic.BaseModel):
    label: Literal["positive", "negative", "neutral"]
    confidence: float


class LineItemCount(pydantic.BaseModel):
    invoice_id: str
    line_items: int


def sentiment_from_reply(reply: str) -> Sentiment:
    return Sentiment.model_validate_json(reply)


def line_items_from_reply(reply: str) -> LineItemCount:
    return LineItemCount.model_validate_json(reply)


def scores_from_json_mode(reply: str) -> dict[str, float]:
    scores: dict[str, float] = orjson.loads(reply)
    return scores


def headlines_from_reply(reply: str) -> list[str]:
    parsed = json.loads(reply)
    return [entry for entry in parsed["headlines"]]


def gemini_json_reply(question: str) -> dict[str, Any]:
    body = {
        "candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
    }
    client = _gemini_client(_json_handler(200, body))
    response = client.models.generate_content(
        model="gemini-2.5-flash", contents=question, config={"response_mime_type": "application/json"}
    )
    parsed: dict[str, Any] = json.loads(response.text)  # type: ignore[arg-type]
    return parsed


def _parsing_cases() -> list[Case]:
    return [
        Case(
            "wave11.parse.orjson_reply.trailing_comma",
            "invalid_json",
            _raises_as(orjson.JSONDecodeError, scores_from_json_mode, '{"relevance": 0.9, "coverage": 0.4,}'),
        ),
        Case(
            "wave11.parse.structured.number_in_words",
            "schema_mismatch",
            _raises_as(
                pydantic.ValidationError, line_items_from_reply, '{"invoice_id": "INV-2291", "line_items": "seven"}'
            ),
        ),
        Case(
            "wave11.parse.structured.unlisted_literal",
            "schema_mismatch",
            _raises_as(pydantic.ValidationError, sentiment_from_reply, '{"label": "mixed", "confidence": 0.55}'),
        ),
        Case(
            "wave11.parse.list_by_key.headlines",
            "schema_mismatch",
            _raises_as(TypeError, headlines_from_reply, '["Rates held", "Chips rally"]'),
        ),
        Case(
            "wave11.parse.gemini_text.absent",
            "missing_data",
            _raises_as(TypeError, gemini_json_reply, "List the three largest customers as JSON."),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Retrieval


def best_passage(passages: list[str], scores: np.ndarray) -> str:
    return passages[int(np.argmax(scores))]


def closest_candidate(candidates: list[tuple[float, str]]) -> str:
    heap = list(candidates)
    heapq.heapify(heap)
    return heapq.heappop(heap)[1]


def query_centroid(vectors: list[np.ndarray]) -> np.ndarray:
    return np.stack(vectors).mean(axis=0)


DOCUMENTS = {"doc-41c2": "Refund policy", "doc-7e09": "Shipping times"}


def cited_documents(citation_ids: list[str]) -> list[str]:
    return [DOCUMENTS[doc_id] for doc_id in citation_ids]


def _retrieval_cases() -> list[Case]:
    return [
        Case(
            "wave11.retrieval.argmax.no_scores",
            "missing_data",
            _raises_as(ValueError, best_passage, [], np.array([], dtype=np.float32)),
        ),
        Case("wave11.retrieval.stack.no_vectors", "missing_data", _raises_as(ValueError, query_centroid, [])),
        Case("wave11.retrieval.heap.no_candidates", "missing_data", _raises_as(IndexError, closest_candidate, [])),
        Case(
            "wave11.retrieval.citations.unknown_id",
            "missing_data",
            _raises_as(KeyError, cited_documents, ["doc-41c2", "doc-b3f8"]),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Configuration loading


def load_agent_toml(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def read_prompt_prefix(ini: str) -> str:
    config = configparser.ConfigParser()
    config.read_string(ini)
    return config.get("prompts", "prefix")


def read_provider_ini(ini: str) -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read_string(ini, source="providers.ini")
    return config


def parse_cli_settings(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="summarise", exit_on_error=False)
    parser.add_argument("--provider", choices=["openai", "anthropic", "mistral"], default="openai")
    return parser.parse_args(argv)


def rerank_model_name() -> str:
    return os.environ["RERANK_MODEL_NAME"]


def load_settings_json(text: str) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(text)
    return settings


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    temperature: float
    top_p: float

    def __post_init__(self) -> None:
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


def sampling_from_env() -> SamplingSettings:
    return SamplingSettings(float(os.environ["SUMMARY_TEMPERATURE"]), float(os.environ["SUMMARY_TOP_P"]))


class SummariserSettings(pydantic_settings.BaseSettings):
    model_config = pydantic_settings.SettingsConfigDict(env_prefix="SUMMARISER_")
    max_output_tokens: int = 1024


def summariser_settings() -> SummariserSettings:
    return SummariserSettings()


def _configuration_cases() -> list[Case]:
    return [
        Case(
            "wave11.config.toml.duplicate_table",
            "configuration",
            _raises_as(
                tomllib.TOMLDecodeError,
                load_agent_toml,
                '[agent]\nmodel = "gpt-4.1"\n\n[tools]\nweb = true\n\n[agent]\nmax_steps = 12\n',
            ),
        ),
        Case(
            "wave11.config.toml.bare_string",
            "configuration",
            _raises_as(tomllib.TOMLDecodeError, load_agent_toml, "[agent]\nmodel = claude-sonnet-4-5\n"),
        ),
        Case(
            "wave11.config.ini.interpolation",
            "configuration",
            _raises_as(
                configparser.InterpolationSyntaxError,
                read_prompt_prefix,
                "[prompts]\nprefix = Answer in under 50% of the usual length\n",
            ),
        ),
        Case(
            "wave11.config.ini.duplicate_section",
            "configuration",
            _raises_as(
                configparser.DuplicateSectionError,
                read_provider_ini,
                "[anthropic]\nmodel = claude-haiku-4-5\n\n[anthropic]\nmodel = claude-sonnet-4-5\n",
            ),
        ),
        Case(
            "wave11.config.argparse.invalid_choice",
            "configuration",
            _raises_as(argparse.ArgumentError, parse_cli_settings, ["--provider", "gemnii"]),
        ),
        Case(
            "wave11.config.env.rerank_model_unset",
            "configuration",
            _with_env(rerank_model_name, declared=(KeyError,), RERANK_MODEL_NAME=None),
        ),
        Case(
            "wave11.config.json_file.comments",
            "configuration",
            _raises_as(
                json.JSONDecodeError,
                load_settings_json,
                '{\n  // the model the router falls back to\n  "fallback_model": "gpt-4o-mini"\n}\n',
            ),
        ),
        Case(
            "wave11.config.dataclass.top_p_range",
            "configuration",
            _with_env(sampling_from_env, declared=(ValueError,), SUMMARY_TEMPERATURE="0.3", SUMMARY_TOP_P="1.5"),
        ),
        Case(
            "wave11.config.pydantic_settings.max_output_tokens",
            "configuration",
            _with_env(summariser_settings, declared=(pydantic.ValidationError,), SUMMARISER_MAX_OUTPUT_TOKENS="2k"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Blob storage


def read_cached_transcript(blob: bytes) -> str:
    return gzip.decompress(blob).decode("utf-8")


def read_bundle_member(blob: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(blob)) as bundle:
        return bundle.read(member)


def _bundle(member: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        bundle.writestr(member, payload)
    return buffer.getvalue()


def _flipped_payload_bundle() -> bytes:
    blob = bytearray(_bundle("chunks.jsonl", b'{"id": 1, "text": "Refunds are processed within 5 days."}\n'))
    blob[blob.index(b"Refunds")] ^= 0x20
    return bytes(blob)


def decode_stored_signature(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def stored_message_text(payload: str) -> str:
    with sqlite3.connect(":memory:") as conn:
        conn.execute("create table messages (id integer primary key, payload text)")
        conn.execute("insert into messages (payload) values (?)", (payload,))
        row = conn.execute("select json_extract(payload, '$.text') from messages").fetchone()
        return str(row[0])


def read_feedback_export(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), strict=True))


def read_utf16_note(blob: bytes) -> str:
    return blob.decode("utf-16-le")


def load_stored_embedding(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _blob_cases() -> list[Case]:
    transcript = gzip.compress(b'{"speaker": "agent", "text": "Your refund is on its way."}')
    return [
        Case(
            "wave11.blob.gzip.cut_short",
            "corrupted_data",
            _raises_as(EOFError, read_cached_transcript, transcript[: len(transcript) // 2]),
        ),
        Case(
            "wave11.blob.zip.missing_member",
            "missing_data",
            _raises_as(KeyError, read_bundle_member, _bundle("chunks.jsonl", b"{}\n"), "embeddings.npy"),
        ),
        Case(
            "wave11.blob.zip.bad_crc",
            "corrupted_data",
            _raises_as(zipfile.BadZipFile, read_bundle_member, _flipped_payload_bundle(), "chunks.jsonl"),
        ),
        Case(
            "wave11.blob.base64.strict_alphabet",
            "corrupted_data",
            _raises_as(binascii.Error, decode_stored_signature, "c2lnbmF0dXJl*dmFsdWU="),
        ),
        Case(
            "wave11.blob.base64.length",
            "corrupted_data",
            _raises_as(binascii.Error, decode_stored_signature, "c2lnbmF0d"),
        ),
        Case(
            "wave11.blob.sqlite_json.malformed",
            "corrupted_data",
            _raises_as(sqlite3.OperationalError, stored_message_text, '{"text": "See you tomorrow", "ts": 17'),
        ),
        Case(
            "wave11.blob.csv.strict_quote",
            "corrupted_data",
            _raises_as(csv.Error, read_feedback_export, 'id,comment\n7,"great "answer" thanks",5\n'),
        ),
        Case(
            "wave11.blob.utf16.truncated",
            "corrupted_data",
            _raises_as(UnicodeDecodeError, read_utf16_note, "Call back on Monday".encode("utf-16-le")[:-1]),
        ),
        Case(
            "wave11.blob.numpy.buffer_size",
            "corrupted_data",
            _raises_as(ValueError, load_stored_embedding, np.ones(384, dtype=np.float32).tobytes()[:-2]),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Concurrency and streaming


async def _slow_completion() -> str:
    await asyncio.sleep(5)
    return "done"


async def summary_within_budget() -> str:
    async with asyncio.timeout(0.01):
        return await _slow_completion()


async def rerank_with_deadline() -> str:
    return await asyncio.wait_for(_slow_completion(), timeout=0.01)


async def cancelled_embedding_job() -> str:
    job = asyncio.create_task(_slow_completion())
    await asyncio.sleep(0)
    job.cancel()
    return await job


async def next_document_to_index(pending: asyncio.Queue[str]) -> str:
    return pending.get_nowait()


def embed_all(chunks: list[str]) -> list[str]:
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(release.wait, 60.0) for _ in chunks]
        try:
            return [str(future.result()) for future in concurrent.futures.as_completed(futures, timeout=0.01)]
        finally:
            release.set()


def moderation_verdict(text: str) -> str:
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(release.wait, 60.0)
        try:
            return str(future.result(timeout=0.01))
        finally:
            release.set()


class ToolArgumentsIncomplete(ValueError):
    pass


def tool_call_from_stream(deltas: list[str], finish_reason: str) -> dict[str, Any]:
    arguments = "".join(deltas)
    try:
        parsed: dict[str, Any] = json.loads(arguments)
    except json.JSONDecodeError as error:
        raise ToolArgumentsIncomplete(
            f"tool call arguments could not be parsed (finish_reason={finish_reason})"
        ) from error
    return parsed


def _concurrency_cases() -> list[Case]:
    return [
        Case(
            "wave11.concurrency.timeout_block.summary",
            "timeout",
            _araises(summary_within_budget, declared=(TimeoutError,)),
        ),
        Case("wave11.concurrency.wait_for.rerank", "timeout", _araises(rerank_with_deadline, declared=(TimeoutError,))),
        Case(
            "wave11.concurrency.task.cancelled",
            "cancelled",
            _araises(cancelled_embedding_job, declared=(asyncio.CancelledError,)),
        ),
        Case(
            "wave11.concurrency.queue.nothing_pending",
            "missing_data",
            _araises(lambda: next_document_to_index(asyncio.Queue()), declared=(asyncio.QueueEmpty,)),
        ),
        Case(
            "wave11.concurrency.as_completed.unfinished",
            "timeout",
            _raises_as(TimeoutError, embed_all, ["chunk-1", "chunk-2"]),
        ),
        Case(
            "wave11.concurrency.future_result.moderation",
            "timeout",
            _raises_as(TimeoutError, moderation_verdict, "Is this review abusive?"),
        ),
        Case(
            "wave11.stream.tool_arguments.length",
            "truncation",
            _raises_as(
                ToolArgumentsIncomplete,
                tool_call_from_stream,
                ['{"query": "refund po', "licy for damaged ite"],
                "length",
            ),
        ),
    ]


def build_wave11_cases() -> list[Case]:
    return [
        *_litellm_cases(),
        *_sdk_cases(),
        *_tool_cases(),
        *_parsing_cases(),
        *_retrieval_cases(),
        *_configuration_cases(),
        *_blob_cases(),
        *_concurrency_cases(),
    ]
