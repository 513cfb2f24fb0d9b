"""Development-only cases for the families of rules 2026.12.04-12 and -13 (issue 19, thirteenth session, helpers
rules13 and rules13b).

Written by the rule writer, not by a corpus wave: each case illustrates a family read from a library's or a
provider's own wording for the labels weakest in the sealed part's aggregate figures (tool calls, content filter,
truncation, invalid JSON, memory, corrupted data), so every scenario is recorded in the development part of
``broad_split.json`` by hand, never by :func:`tests.corpus.broad.assign`. None comes from a sealed case or a public
issue thread. Real raises through the libraries (langchain-core's tool and tool-call parsers, anthropic's stream
accumulator, jiter and pydantic-core, numpy's ``.npy`` reader), the OpenAI SDK against bodies of OpenAI-compatible
servers (the Images API's moderation, LiteLLM's guardrail hooks, llama.cpp and MLX servers), else an application's
own check of a reply in the server's words (llama.cpp's ``/completion``, AI21's nested finish reason, Lambda's
function error). Rules -13 add the members of its families that wave 13's development cases do not show:
pydantic-ai's token limit hit inside a tool call and inside structured output (``FunctionModel``), ollama's other
request models given no model name, Groq's request validator on a tool message and a content type.

Named ``wave13_families.*`` so that its group is not taken for a corpus wave's (``wave13``): the application
functions' names say nothing of the label; the library's wording, type or frame is the evidence.
"""

from __future__ import annotations

import io
import json
import os
import struct
import wave
from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx
import httpx2
import jiter
import numpy as np
import ollama
import openai
import pydantic
import pydantic_core
from google.genai import types as genai_types
from langchain_core.messages import AIMessage
from langchain_core.output_parsers.openai_functions import JsonOutputFunctionsParser
from langchain_core.output_parsers.openai_tools import PydanticToolsParser
from langchain_core.outputs import ChatGeneration
from langchain_core.tools import tool
from pydantic_ai import Agent, PromptedOutput
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.corpus.broad import _with_env
from tests.corpus.sdk_errors import (
    _CLAUDE,
    _USER_MSG,
    Case,
    _anthropic_client,
    _anthropic_message_start,
    _gemini_response,
    _raises,
)
from tests.corpus.wave6 import _compatible
from tests.corpus.wave10_families import ReplyError, check_reply


def build_wave13_family_cases() -> list[Case]:
    return [
        *_tool_parser_cases(),
        *_moderation_cases(),
        *_stop_record_cases(),
        *_parser_wording_cases(),
        *_memory_cases(),
        *_array_file_cases(),
        *_audio_upload_cases(),
        *_client_setting_cases(),
        *_provider_auth_cases(),
        *_gemini_stop_cases(),
        *_rules13_cases(),
    ]


# --------------------------------------------------------------------------------------------------
# tool calls: the frameworks' tool-argument validation and tool-call parsers, by frame and wording
# --------------------------------------------------------------------------------------------------


@tool
def reserve_room(building: str, floor: int, seats: int) -> str:
    """Reserve a meeting room."""
    return f"{building}:{floor}:{seats}"


class LookupOrder(pydantic.BaseModel):
    """Look an order up by its number."""

    order_number: str


def run_model_call(call: dict[str, Any]) -> str:
    """The agent loop runs the tool the model named with the arguments the model gave."""
    return str(reserve_room.invoke(call))


def typed_calls(message: AIMessage) -> list[pydantic.BaseModel]:
    return list(PydanticToolsParser(tools=[LookupOrder]).parse_result([ChatGeneration(message=message)]))


def routed_arguments(message: AIMessage) -> Any:
    return JsonOutputFunctionsParser().parse_result([ChatGeneration(message=message)])


def streamed_answer(events: list[dict[str, Any]]) -> str:
    """The app streams a Claude reply and keeps its final message."""
    payload = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events).encode()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    with _anthropic_client(handler).messages.stream(model=_CLAUDE, max_tokens=1024, messages=_USER_MSG) as stream:
        return str(stream.get_final_message().content)


def _claude_tool_stream(partial_json: str) -> list[dict[str, Any]]:
    block = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}
    delta = {"type": "input_json_delta", "partial_json": partial_json}
    return [
        _anthropic_message_start(),
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
    ]


def _tool_parser_cases() -> list[Case]:
    call = {"name": "reserve_room", "id": "call_x1", "type": "tool_call"}
    other_tool = {"name": "CancelOrder", "args": {"order_number": "7"}, "id": "c1"}
    unknown_tool = AIMessage(content="", tool_calls=[other_tool])
    no_call = AIMessage(content="Here is the answer directly.")
    cut_call = AIMessage(content="", additional_kwargs={"function_call": {"name": "route", "arguments": '{"to": "b'}})
    return [
        Case(
            "wave13_families.tool_parsers.wrong_type",
            "tool_call_malformed",
            _raises(run_model_call, {**call, "args": {"building": "B", "floor": "third", "seats": 4}}),
        ),
        Case(
            "wave13_families.tool_parsers.argument_left_out",
            "tool_call_malformed",
            _raises(run_model_call, {**call, "args": {"building": "B", "seats": 4}}),
        ),
        Case("wave13_families.tool_parsers.unlisted_tool", "tool_call_malformed", _raises(typed_calls, unknown_tool)),
        Case(
            "wave13_families.tool_parsers.answer_without_call",
            "tool_call_malformed",
            _raises(routed_arguments, no_call),
        ),
        Case("wave13_families.tool_parsers.cut_arguments", "tool_call_malformed", _raises(routed_arguments, cut_call)),
        Case(
            "wave13_families.tool_parsers.streamed_input",
            "tool_call_malformed",
            _raises(streamed_answer, _claude_tool_stream('{"city": Lisbon, "unit": "C"}')),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# content filter: the Images API's moderation and a gateway's guardrail verdicts (LiteLLM's hooks)
# --------------------------------------------------------------------------------------------------


def _moderation_cases() -> list[Case]:
    images = {
        "message": "Your request was rejected by the safety system. If you believe this is an error, contact us at "
        "help.openai.com and include the request ID req_5b1c in your message. safety_violations=[violence].",
        "type": "image_generation_user_error",
        "param": None,
        "code": "moderation_blocked",
    }

    def gateway(verdict: dict[str, Any]) -> BaseException:
        return _compatible(400, {"message": str(verdict), "type": "None", "param": "None", "code": "400"})

    return [
        Case("wave13_families.moderation.image_request", "content_filter", _compatible(400, images)),
        Case(
            "wave13_families.moderation.gateway_policy",
            "content_filter",
            gateway({"error": "Violated guardrail policy", "guardrail": "bedrock-pii", "action": "BLOCKED"}),
        ),
        Case(
            "wave13_families.moderation.gateway_threshold",
            "content_filter",
            gateway({"error": "Violated jailbreak threshold", "score": 0.93}),
        ),
        Case(
            "wave13_families.moderation.gateway_vendor",
            "content_filter",
            gateway({"error": "Request blocked by Noma guardrail", "details": {"blocked": True}}),
        ),
        Case(
            "wave13_families.moderation.gateway_severity",
            "content_filter",
            gateway({"error": "Azure Content Safety Guardrail: Violence crossed severity 2, Got severity: 4"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# truncation: stop records of local servers and of providers that nest the reason
# --------------------------------------------------------------------------------------------------


def local_completion(reply: dict[str, Any]) -> str:
    """The app's check of a llama.cpp server's ``/completion`` reply: it must have stopped on its own."""
    if reply.get("stop_type") != "eos":
        timings = f"stopped_limit={reply['stopped_limit']}, tokens_predicted={reply['tokens_predicted']}"
        raise ReplyError(f"local completion ended early (stop_type={reply['stop_type']}, {timings})")
    return str(reply["content"])


def _stop_record_cases() -> list[Case]:
    llama_cpp = {"content": "The three steps are", "stop_type": "limit", "stopped_limit": True, "tokens_predicted": 256}
    return [
        Case("wave13_families.stop_records.local_server", "truncation", _raises(local_completion, llama_cpp)),
        Case(
            "wave13_families.stop_records.nested_reason",
            "truncation",
            _raises(check_reply, {"finishReason": {"reason": "length", "length": 64}, "text": "In summary, the"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# invalid JSON: jiter's wording (pydantic-core's and the OpenAI SDK's parser), which json's does not share
# --------------------------------------------------------------------------------------------------


def answer_fields(text: str) -> Any:
    return pydantic_core.from_json(text)


def streamed_fields(chunks: list[str]) -> Any:
    return jiter.from_json("".join(chunks).encode(), partial_mode="trailing-strings")


def _parser_wording_cases() -> list[Case]:
    return [
        Case("wave13_families.parser_wording.bare_word", "invalid_json", _raises(answer_fields, "no answer found")),
        Case("wave13_families.parser_wording.python_literal", "invalid_json", _raises(answer_fields, '{"ok": None}')),
        Case(
            "wave13_families.parser_wording.bad_number", "invalid_json", _raises(streamed_fields, ['{"score": 0.', "."])
        ),
    ]


# --------------------------------------------------------------------------------------------------
# out of memory: local model servers' allocators (llama.cpp's ggml, MLX's Metal) and Lambda's runtime
# --------------------------------------------------------------------------------------------------


def invoke_function(response: dict[str, Any]) -> dict[str, Any]:
    """The app's check of a Lambda ``Invoke`` response: a function error carries the runtime's own record."""
    if response.get("FunctionError"):
        record = json.loads(response["Payload"])
        raise ReplyError(f"function failed: {record['errorType']}: {record['errorMessage']}")
    return dict(json.loads(response["Payload"]))


def _memory_cases() -> list[Case]:
    ggml = "ggml_new_object: not enough space in the context's memory pool (needed 819840, available 819200)"
    metal = (
        "[metal::malloc] Attempting to allocate 21474836480 bytes which is greater than the maximum allowed buffer "
        "size of 17179869184 bytes."
    )
    lambda_record = {"errorType": "Runtime.OutOfMemory", "errorMessage": "RequestId: 5e2f Error: Runtime exited"}
    return [
        Case(
            "wave13_families.memory.local_context",
            "out_of_memory",
            _compatible(500, {"code": 500, "message": ggml, "type": "server_error"}),
        ),
        Case(
            "wave13_families.memory.apple_buffer",
            "out_of_memory",
            _compatible(500, {"message": metal, "type": "internal_error", "param": None, "code": None}),
        ),
        Case(
            "wave13_families.memory.function_runtime",
            "out_of_memory",
            _raises(invoke_function, {"FunctionError": "Unhandled", "Payload": json.dumps(lambda_record)}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# corrupted data: numpy's .npy reader on a file cut short or overwritten
# --------------------------------------------------------------------------------------------------


def _npy_bytes(array: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def vectors_from(data: bytes) -> np.ndarray[Any, Any]:
    return np.asarray(np.load(io.BytesIO(data)))


def _array_file_cases() -> list[Case]:
    whole = _npy_bytes(np.arange(64, dtype=np.float32))
    header_end = whole.index(b"\n") + 1
    scrambled = whole[:10] + whole[10:header_end].replace(b"descr", b"dscr#") + whole[header_end:]
    return [
        Case("wave13_families.array_file.header_cut", "corrupted_data", _raises(vectors_from, whole[:20])),
        Case("wave13_families.array_file.body_cut", "corrupted_data", _raises(vectors_from, whole[: header_end + 40])),
        Case("wave13_families.array_file.header_overwritten", "corrupted_data", _raises(vectors_from, scrambled)),
    ]


# --------------------------------------------------------------------------------------------------
# corrupted data: an uploaded recording the wave module cannot read
# --------------------------------------------------------------------------------------------------


def _riff(chunks: bytes) -> bytes:
    body = b"WAVE" + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def frames_in(upload: bytes) -> int:
    """The transcription step counts an uploaded recording's frames before sending it on."""
    with wave.open(io.BytesIO(upload)) as recording:
        return recording.getnframes()


def _audio_upload_cases() -> list[Case]:
    alaw_format = b"fmt " + struct.pack("<IHHIIHH", 16, 85, 1, 8000, 8000, 1, 8)
    return [
        Case(
            "wave13_families.audio_upload.other_container", "corrupted_data", _raises(frames_in, b"RIFF$\0\0\0AVI LIST")
        ),
        Case("wave13_families.audio_upload.no_chunks", "corrupted_data", _raises(frames_in, _riff(b""))),
        Case("wave13_families.audio_upload.foreign_codec", "corrupted_data", _raises(frames_in, _riff(alaw_format))),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: a client's setting named with the variable it falls back to, or given half
# --------------------------------------------------------------------------------------------------


def model_api_key() -> str:
    """The app reads its provider key once at start-up and says which variable is missing."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if not key:
        raise RuntimeError("OPENAI_API_KEY is not set")
    return key


def _client_setting_cases() -> list[Case]:
    def vertex_provider() -> Any:
        return openai.providers.vertex(project="acme-prod")

    def webhook_event() -> Any:
        return openai.OpenAI(api_key="sk-test").webhooks.unwrap("{}", {})

    def two_credentials() -> Any:
        return openai.providers.vertex(
            project="acme-prod", location="us-central1", token_provider=lambda: "ya29.token", credentials=object()
        )

    return [
        Case(
            "wave13_families.client_settings.region_fallback",
            "configuration",
            _with_env(vertex_provider, GOOGLE_CLOUD_LOCATION=None),
        ),
        Case(
            "wave13_families.client_settings.signing_secret",
            "configuration",
            _with_env(webhook_event, OPENAI_WEBHOOK_SECRET=None),
        ),
        Case(
            "wave13_families.client_settings.key_unset", "configuration", _with_env(model_api_key, OPENAI_API_KEY=None)
        ),
        Case("wave13_families.client_settings.two_credentials", "configuration", _raises(two_credentials)),
        Case(
            "wave13_families.client_settings.half_key_pair",
            "configuration",
            _raises(anthropic.AnthropicAWS, aws_access_key="AKIAEXAMPLE", aws_region="us-east-1"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# auth: providers' rejections of a key or token under a 400 (LiteLLM maps them to AuthenticationError)
# --------------------------------------------------------------------------------------------------


def _provider_auth_cases() -> list[Case]:
    def rejected(message: str) -> BaseException:
        return _compatible(400, {"message": message, "type": "invalid_request_error", "param": None, "code": None})

    return [
        Case("wave13_families.provider_auth.token_wrong", "auth", rejected("Incorrect authentication token")),
        Case("wave13_families.provider_auth.token_absent", "auth", rejected("Bad or missing API token.")),
        Case("wave13_families.provider_auth.key_shape", "auth", rejected("API key doesn't match expected format.")),
        Case("wave13_families.provider_auth.user_token", "auth", rejected("A valid user token is required")),
    ]


# --------------------------------------------------------------------------------------------------
# Gemini's newer finish reasons: the per-request token limit reached mid-answer, an escalation rule's filter
# --------------------------------------------------------------------------------------------------


def gemini_answer(response: Any) -> str:
    """The app keeps a Gemini answer only if the model finished it."""
    candidate = response.candidates[0]
    if candidate.finish_reason != genai_types.FinishReason.STOP:
        raise ReplyError(f"Gemini stopped before answering: finish_reason={candidate.finish_reason.value}")
    return str(response.text)


def _gemini_stop_cases() -> list[Case]:
    def stopped(reason: str) -> Any:
        part = {"text": "The quarter's revenue grew because"}
        return _gemini_response({"candidates": [{"index": 0, "finishReason": reason, "content": {"parts": [part]}}]})

    return [
        Case("wave13_families.gemini_stop.continued", "truncation", _raises(gemini_answer, stopped("CONTINUATION"))),
        Case("wave13_families.gemini_stop.escalated", "content_filter", _raises(gemini_answer, stopped("ESCALATION"))),
    ]


# --------------------------------------------------------------------------------------------------
# rules -13: pydantic-ai's token limit hit mid-tool-call, ollama's request models given no model name, Groq's
# request validator on a message's shape (an OpenAI-compatible body)
# --------------------------------------------------------------------------------------------------


def _reply_cut_in_a_call(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A model whose reply stops at its token limit inside a tool call's arguments."""
    return ModelResponse(parts=[ToolCallPart("shipping_quote", '{"destination": "Lis')], finish_reason="length")


def shipping_answer(prompt: str) -> str:
    agent = Agent(FunctionModel(_reply_cut_in_a_call))

    @agent.tool_plain
    def shipping_quote(destination: str) -> str:
        return f"3 days to {destination}"

    return agent.run_sync(prompt).output


class Quote(pydantic.BaseModel):
    destination: str
    days: int


def _reply_cut_in_its_json(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A model whose structured reply stops at its token limit inside the JSON."""
    return ModelResponse(parts=[TextPart('{"destination": "Lis')], finish_reason="length")


def structured_quote(prompt: str) -> Quote:
    return Agent(FunctionModel(_reply_cut_in_its_json), output_type=PromptedOutput(Quote)).run_sync(prompt).output


def passage_vectors(texts: list[str]) -> list[list[float]]:
    """Embeds with the model the deployment names; the client validates its request before any call."""
    client = ollama.Client(host="http://127.0.0.1:9")
    reply = client.embed(model=os.environ.get("EMBEDDING_MODEL", ""), input=texts)
    return [list(vector) for vector in reply.embeddings]


def local_summary(text: str, settings: dict[str, Any]) -> str:
    client = ollama.Client(host="http://127.0.0.1:9")
    return client.generate(model=settings.get("summary_model"), prompt=f"Summarise: {text}").response


def _agent_over_openai(status: int, body: dict[str, Any]) -> OpenAIChatModel:
    """pydantic-ai's OpenAI model over a transport that answers every call with ``status`` and ``body``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    transport = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = openai.AsyncOpenAI(
        api_key="sk-corpus", base_url="https://llm.example.test/v1", max_retries=0, http_client=transport
    )
    return OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client))


def _reply_withheld(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """A model whose provider withheld the reply (its finish reason ``content_filter``), at a fixed time."""
    return ModelResponse(parts=[], finish_reason="content_filter", timestamp=datetime(2026, 1, 5, tzinfo=UTC))


def agent_answer(model: Model, prompt: str) -> str:
    return Agent(model).run_sync(prompt, run_id="digest-118", conversation_id="digest-118").output


def gemini_candidates(response: Any) -> list[Any]:
    """The app needs at least one candidate; a prompt blocked upstream leaves none."""
    if not response.candidates:
        raise ReplyError(f"Gemini returned no candidates ({response.prompt_feedback.block_reason})")
    return list(response.candidates)


def _rules13_cases() -> list[Case]:
    def shape(message: str) -> BaseException:
        return _compatible(400, {"message": message, "type": "invalid_request_error", "code": "invalid_request_error"})

    tool_reply = (
        "'messages.2' : for 'role:tool' the following must be satisfied[('messages.2.tool_call_id' : property "
        "'tool_call_id' is missing)]"
    )
    return [
        Case("wave13_families.token_limit.tool_call", "truncation", _raises(shipping_answer, "Quote to Paris")),
        Case(
            "wave13_families.token_limit.structured_output",
            "truncation",
            _raises(structured_quote, "Quote shipping to Lisbon"),
        ),
        Case(
            "wave13_families.request_models.embed",
            "configuration",
            _with_env(lambda: passage_vectors(["first passage"]), EMBEDDING_MODEL=None),
        ),
        Case(
            "wave13_families.request_models.generate",
            "configuration",
            _raises(local_summary, "The quarter closed above plan.", {"temperature": 0.2}),
        ),
        Case("wave13_families.message_shape.tool_reply", "bad_request", shape(tool_reply)),
        Case(
            "wave13_families.model_categories.payment",
            "quota_exceeded",
            _raises(agent_answer, _agent_over_openai(402, {"error": {"message": "Payment Required"}}), "Digest"),
        ),
        Case(
            "wave13_families.prompt_blocks.jailbreak",
            "content_filter",
            _raises(gemini_candidates, _gemini_response({"promptFeedback": {"blockReason": "JAILBREAK"}})),
        ),
        Case(
            "wave13_families.prompt_blocks.model_armor",
            "content_filter",
            _raises(gemini_candidates, _gemini_response({"promptFeedback": {"blockReason": "MODEL_ARMOR"}})),
        ),
        Case(
            "wave13_families.model_categories.withheld",
            "content_filter",
            _raises(agent_answer, FunctionModel(_reply_withheld), "Digest"),
        ),
        Case(
            "wave13_families.message_shape.content_type",
            "bad_request",
            shape("'messages.1.content' : value must be a string"),
        ),
    ]
