"""A tenth wave of broad cases, written and split before any rule was changed for them (issue 19, tenth session).

Sources, none of them public issue threads, none repeating waves 1-9's calls and messages; back to the population the
kept-aside measurement set is made of (the SDKs an LLM application calls, and Python's built-ins, in realistic
application code), from sources no earlier wave used:

* a first batch (:func:`build_wave10_first_batch`): **langchain-core**, which no earlier wave used, raising for real:
  its output parsers (``JsonOutputParser`` on prose, ``PydanticOutputParser`` on the wrong shape and on a reply cut
  at the token limit, ``parse_and_check_json_markdown``'s expected keys, ``JsonOutputFunctionsParser`` with no
  function call, ``JsonOutputToolsParser``, ``parse_tool_call`` and ``PydanticToolsParser`` on a model's tool calls,
  a refusal block turned into ``ModelRefusalError`` from OpenAI's ``refusal`` field and Anthropic's
  ``stop_reason=refusal``); tools (``@tool`` and ``StructuredTool`` argument validation in an agent loop over a fake
  chat model's ``AIMessage.tool_calls``, a tool name the registry lacks, ``ToolException`` over an inventory
  service's 503 and over an absent order); prompt templates (a variable the inputs lack, a brace that does not
  close, a prompt file of an unsupported ``_type``); runnables over langchain-core's fake chat models whose calls go
  through the SDKs' real clients (``with_retry`` over OpenAI's 429, ``with_fallbacks`` over Gemini's and Mistral's
  capacity answers and past an Anthropic 403 it does not handle, a context overflow an integration maps to
  ``ContextOverflowError``, ``with_config`` streamed under a deadline, a batch cancelled, a retrieval step retried
  against a refused port); stored chat history of an unknown message type, an ``AIMessage`` built from a reply
  whose tool arguments are a string, settings (``get_from_env``, ``guard_import``, ``trim_messages`` counting
  tokens with no tokenizer installed), ``InMemoryVectorStore`` files missing and cut short, a serialised prompt
  (``langchain_core.load``) cut short, a retriever with no document and a document without its ``source``, and a
  tracing callback whose directory does not exist.
* a second batch (:func:`build_wave10_second_batch`): the SDKs' exception classes and error bodies no earlier wave
  raised, enumerated from their installed source and checked against every earlier case's chain: the OpenAI SDK's
  own Vertex and Bedrock providers (a project unset, a region that is not AWS's), workload identity (a Kubernetes
  token file that is not there: ``SubjectTokenProviderError``; a token exchange answered ``invalid_grant``:
  ``OAuthError``), webhooks with no secret, background Responses that ended ``failed`` (``vector_store_timeout``,
  ``image_content_policy_violation``, ``invalid_prompt``, ``image_too_large``); Anthropic's error codes from
  ``anthropic/types/shared`` (``ramp_limit_exceeded``, ``contract_spend_limit_reached``, ``cmek_context_unavailable``,
  ``request_body_encoding_invalid``, ``request_body_too_large_after_decoding``) and its ``IdentityTokenFile``;
  requests' ``InvalidHeader`` (a token with its newline), ``InvalidProxyURL``, ``MissingSchema`` and ``RetryError``
  (urllib3 gave up on 502s); jsonschema's ``SchemaError``, ``UnknownType`` and an unresolvable ``$ref`` in the
  application's tool schemas; a settings model's ``PydanticCustomError``.

SDK and library errors are raised for real; provider bodies are written in the shape and words each provider
documents for the failure.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json`` before any rule was
changed for them. The first batch: 37 cases in 27 scenarios, 10 of them sealed (13 cases). The second (committed
after the first was measured, split and measured the same way): 23 cases in 12 new scenarios, 4 of them sealed (6
cases; the six Anthropic cases are one scenario, ``wave10.anthropic``, as their names have one part below it); no
repeat of an earlier case's type and message was found. One case was changed
before the split as a repeat of an earlier wave's message: with Gemini's "The model is overloaded" raised first by
``with_fallbacks`` its chain was an earlier case's, so Mistral's capacity 429 is the primary and Gemini the fallback.
Where only an innermost exception's text matches an earlier case's (``Expecting value``, ``list index out of
range``, ``Connection refused``, an empty ``TimeoutError`` or ``CancelledError``, httpx's status line), the call
differs.

Baseline, rules 2026.12.02-8 and fallback lr-fe89aebcd9 (main at 68872c3), no rule changed,
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave10``):

* first batch, development, 24 cases: 76.0 %. By form: as raised 79.2 %, masked structlog 79.2 %, masked text
  83.3 %, from None 62.5 %. By label (cases): tool_call_malformed 64.3 % (7), missing_data 66.7 % (3),
  configuration 37.5 % (2), schema_mismatch 50.0 % (2), refusal 100 % (2), connection, context_length_exceeded,
  corrupted_data, file_not_found, rate_limit, server_error, timeout and truncation 100 % (one each). Its misses, by
  kind: a tool's arguments failing the tool's own pydantic schema read as a schema mismatch (and, in the ``from
  None`` form, tool arguments that are not JSON as invalid JSON), ``JsonOutputFunctionsParser`` with no function
  call read as a schema mismatch, a reply outside an ``Enum`` read as configuration by the fallback or left
  ``unknown``, ``ToolException`` for an absent order and ``str.format``'s ``unexpected '{' in field name`` left
  ``unknown``, a prompt's missing variables read as missing data in the ``from None`` form.
* first batch, sealed, 13 cases: 84.6 % in every form. Cases by label: configuration 4, corrupted_data 2, one each
  of auth, cancelled, file_not_found, invalid_json, overloaded, schema_mismatch and tool_call_malformed.
* the whole sealed part (all ten waves, 336 cases): 87.00 % -> 86.90 % (as raised 86.9 %, masked structlog 86.9 %,
  masked text 89.0 %, from None 84.8 %); the whole development part (623 cases): 99.92 % -> 99.00 %.
* second batch, development, 17 cases: 88.2 % in every form. By label (cases): configuration 80.0 % (5),
  bad_request 66.7 % (3), content_filter and file_not_found 100 % (2 each), auth, quota_exceeded, rate_limit,
  server_error and timeout 100 % (one each). Its misses, by kind: the OpenAI SDK's "Vertex requires a project ID
  (project or GOOGLE_CLOUD_PROJECT)" and a failed background response's ``image_too_large`` left ``unknown``.
* second batch, sealed, 6 cases: 41.7 %. By form: as raised 33.3 %, masked structlog 50.0 %, masked text 50.0 %,
  from None 33.3 %. Cases by label: configuration 5, server_error 1.
* with both batches: this wave's development part (41 cases) 81.1 % (as raised 82.9 %, masked structlog 82.9 %,
  masked text 85.4 %, from None 73.2 %), its sealed part (19 cases) 71.1 % (as raised 68.4 %, masked structlog
  73.7 %, masked text 73.7 %, from None 68.4 %); the whole sealed part (342 cases) 86.90 % -> 86.11 % (as raised
  86.0 %, masked structlog 86.3 %, masked text 88.3 %, from None 83.9 %); the whole development part (640 cases)
  98.71 %.
"""

from __future__ import annotations

import asyncio
import enum
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import jsonschema
import openai
import pydantic
import pydantic_core
import requests
from anthropic import IdentityTokenFile
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.exceptions import ContextOverflowError
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.load import loads
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    convert_to_openai_messages,
    get_buffer_string,
    messages_from_dict,
    trim_messages,
)
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser, StrOutputParser
from langchain_core.output_parsers.openai_functions import JsonOutputFunctionsParser
from langchain_core.output_parsers.openai_tools import JsonOutputToolsParser, PydanticToolsParser, parse_tool_call
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.prompts.loading import load_prompt
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import BaseTool, StructuredTool, ToolException, tool
from langchain_core.utils import get_from_env
from langchain_core.utils.json import parse_and_check_json_markdown
from langchain_core.utils.utils import guard_import
from langchain_core.vectorstores import InMemoryVectorStore
from openai.auth import WorkloadIdentityAuth, k8s_service_account_token_provider
from openai.providers.bedrock import bedrock
from openai.providers.vertex import vertex
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.corpus.sdk_errors import (
    Case,
    _anthropic_client,
    _araises,
    _closed_port,
    _env,
    _fixed_directory,
    _gemini_client,
    _http_server,
    _json_handler,
    _json_handler2,
    _mistral_client,
    _openai_client,
    _openai_err,
    _raises,
)
from tests.corpus.wave4 import _anthropic_coded


def _quietly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """langchain-core warns about its beta APIs and its fallback tokenizer: the cases need the errors, not those."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _raises(call, *args, **kwargs)


# --------------------------------------------------------------------------------------------------
# A provider integration in a few lines: langchain-core's fake chat model, its call made by a real SDK client


class SdkChatModel(FakeListChatModel):
    """A chat model whose call goes through a provider SDK's client (over a mock transport), as an integration's."""

    complete: Callable[[list[BaseMessage]], str]
    responses: list[str] = pydantic.Field(default_factory=list)

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        return self.complete(messages)


def _openai_chat(status: int, body: Any) -> SdkChatModel:
    client = _openai_client(_json_handler(status, body, {"x-request-id": "req_b81e3c"}))

    def complete(messages: list[BaseMessage]) -> str:
        reply = client.chat.completions.create(model="gpt-4.1-mini", messages=convert_to_openai_messages(messages))
        return reply.choices[0].message.content or ""

    return SdkChatModel(complete=complete)


def _anthropic_chat(status: int, error_type: str, message: str) -> SdkChatModel:
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_01HqN4"}
    client = _anthropic_client(_json_handler2(status, body))

    def complete(messages: list[BaseMessage]) -> str:
        reply = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=1024, messages=convert_to_openai_messages(messages)
        )
        return "".join(block.text for block in reply.content if block.type == "text")

    return SdkChatModel(complete=complete)


def _gemini_chat(code: int, status: str, message: str) -> SdkChatModel:
    client = _gemini_client(_json_handler(code, {"error": {"code": code, "message": message, "status": status}}))

    def complete(messages: list[BaseMessage]) -> str:
        return client.models.generate_content(model="gemini-2.5-flash", contents=get_buffer_string(messages)).text or ""

    return SdkChatModel(complete=complete)


def _mistral_chat(status: int, body: Any) -> SdkChatModel:
    client = _mistral_client(_json_handler(status, body))

    def complete(messages: list[BaseMessage]) -> str:
        reply = client.chat.complete(model="mistral-small-latest", messages=convert_to_openai_messages(messages))
        return str(reply.choices[0].message.content)

    return SdkChatModel(complete=complete)


class OverflowMappingChat(SdkChatModel):
    """An integration that maps the provider's context-length 400 to langchain-core's own ``ContextOverflowError``."""

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        try:
            return self.complete(messages)
        except openai.BadRequestError as error:
            if error.code == "context_length_exceeded":
                raise ContextOverflowError(str(error)) from error
            raise


_SUPPORT_PROMPT = ChatPromptTemplate.from_messages(
    [("system", "You are Acme's support assistant."), ("human", "{question}")]
)


# --------------------------------------------------------------------------------------------------
# Output parsers


class Invoice(pydantic.BaseModel):
    total: float
    currency: str


class QuarterSummary(pydantic.BaseModel):
    summary: str
    risks: list[str]


class TicketPriority(enum.Enum):
    LOW = "low"
    HIGH = "high"


def sentiment_of(review: str, model: Any) -> dict[str, Any]:
    chain = ChatPromptTemplate.from_template("Return JSON with a 'sentiment' key for: {review}") | model
    return dict(chain.pipe(JsonOutputParser()).invoke({"review": review}))


def extract_invoice(document: str, model: Any) -> Invoice:
    parser = PydanticOutputParser(pydantic_object=Invoice)
    prompt = PromptTemplate.from_template("Extract the invoice.\n{format}\n{document}").partial(
        format=parser.get_format_instructions()
    )
    return (prompt | model | parser).invoke({"document": document})


def summarise_quarter(report: str, model: Any) -> QuarterSummary:
    reply = model.invoke(f"Summarise as JSON (summary, risks): {report}")
    return PydanticOutputParser(pydantic_object=QuarterSummary).invoke(reply)


def answer_from_markdown(reply: str) -> str:
    return str(parse_and_check_json_markdown(reply, ["answer", "sources"])["answer"])


def routed_function(model: Any, question: str) -> dict[str, Any]:
    return dict((model | JsonOutputFunctionsParser()).invoke(question))


def triage_priority(model: Any, ticket: str) -> TicketPriority:
    reply = (model | StrOutputParser()).invoke(f"Priority of: {ticket}")
    return TicketPriority(reply.strip())


def _reply_model(*messages: AIMessage) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(messages))


def _parser_cases() -> list[Case]:
    return [
        Case(
            "wave10.langchain.json_parser.prose",
            "invalid_json",
            _raises(
                sentiment_of,
                "The kettle stopped working after a week.",
                FakeListChatModel(responses=["Sure! The sentiment of this review is clearly negative."]),
            ),
        ),
        Case(
            "wave10.langchain.pydantic_parser.wrong_shape",
            "schema_mismatch",
            _raises(
                extract_invoice,
                "Invoice 2291, total twelve euros",
                FakeListChatModel(responses=['{"total": "twelve", "currency_code": "EUR"}']),
            ),
        ),
        Case(
            "wave10.langchain.pydantic_parser.cut_at_length",
            "truncation",
            _raises(
                summarise_quarter,
                "Q3 revenue grew 4 % while churn rose.",
                _reply_model(
                    AIMessage(
                        content='{"summary": "Revenue grew four per cent in the third quarter, while',
                        response_metadata={"finish_reason": "length", "model_name": "gpt-4.1-mini"},
                    )
                ),
            ),
            finish_reason="length",
        ),
        Case(
            "wave10.langchain.markdown_json.expected_keys",
            "schema_mismatch",
            _raises(answer_from_markdown, '```json\n{"answer": "Refunds take 5 days.", "source": "faq.md"}\n```'),
        ),
        Case(
            "wave10.langchain.functions_parser.no_function_call",
            "tool_call_malformed",
            _raises(
                routed_function,
                _reply_model(AIMessage(content="I think you should call the billing team.")),
                "Where is my refund?",
            ),
        ),
        Case(
            "wave10.langchain.enum_reply.priority",
            "schema_mismatch",
            _raises(triage_priority, FakeListChatModel(responses=["Urgent"]), "The checkout page is down."),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Tool calls: parsed from the model's message, validated by the tool, dispatched by the agent loop


@tool
def book_table(restaurant: str, party_size: int, time: str) -> str:
    """Book a table at a restaurant."""
    return f"{restaurant}:{party_size}:{time}"


class ConvertArgs(pydantic.BaseModel):
    amount: float
    source_currency: str = pydantic.Field(min_length=3, max_length=3)
    target_currency: str = pydantic.Field(min_length=3, max_length=3)


def convert_currency(amount: float, source_currency: str, target_currency: str) -> float:
    return amount


CONVERT = StructuredTool.from_function(
    convert_currency, name="convert_currency", description="Convert money.", args_schema=ConvertArgs
)
TOOLS: dict[str, BaseTool] = {"book_table": book_table, "convert_currency": CONVERT}


def run_agent_turn(model: Any, question: str) -> list[Any]:
    reply = model.invoke([HumanMessage(question)])
    return [TOOLS[call["name"]].invoke(call) for call in reply.tool_calls]


class GetForecast(pydantic.BaseModel):
    """Forecast for a city."""

    city: str
    days: int


def forecast_request(model: Any, question: str) -> list[pydantic.BaseModel]:
    return list((model | PydanticToolsParser(tools=[GetForecast])).invoke(question))


def tool_calls_of(model: Any, question: str) -> list[dict[str, Any]]:
    return list((model | JsonOutputToolsParser()).invoke(question))


def pending_tool_call(raw_call: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_tool_call(raw_call, return_id=True)
    assert parsed is not None
    return parsed


def message_from_provider(reply: dict[str, Any]) -> AIMessage:
    calls = [
        {"name": call["function"]["name"], "args": call["function"]["arguments"], "id": call["id"]}
        for call in reply["tool_calls"]
    ]
    return AIMessage(content=reply.get("content") or "", tool_calls=calls)


def _inventory_transport(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text="upstream connect error or disconnect/reset before headers. reset reason: overflow")


@tool
def stock_level(sku: str) -> int:
    """Units of a product in stock."""
    with httpx.Client(base_url="http://inventory.internal", transport=httpx.MockTransport(_inventory_transport)) as c:
        try:
            response = c.get(f"/v1/stock/{sku}")
            response.raise_for_status()
        except httpx.HTTPStatusError as error:
            raise ToolException(f"inventory lookup for {sku} failed") from error
        return int(response.json()["units"])


ORDERS: dict[str, dict[str, str]] = {"ORD-1042": {"status": "shipped"}}


@tool
def order_status(order_id: str) -> str:
    """Status of a customer's order."""
    if order_id not in ORDERS:
        raise ToolException(f"No order found with id {order_id!r}")
    return ORDERS[order_id]["status"]


def _tool_reply(name: str, args: dict[str, Any]) -> GenericFakeChatModel:
    return _reply_model(AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "call_Rk81"}]))


def _raw_call(name: str, arguments: str) -> dict[str, Any]:
    return {"id": "call_7Qe2", "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_cases() -> list[Case]:
    return [
        Case(
            "wave10.langchain.agent_loop.missing_argument",
            "tool_call_malformed",
            _raises(
                run_agent_turn,
                _tool_reply("book_table", {"restaurant": "Noma", "time": "19:30"}),
                "Book Noma for tonight",
            ),
        ),
        Case(
            "wave10.langchain.agent_loop.unregistered_tool",
            "tool_call_malformed",
            _raises(run_agent_turn, _tool_reply("cancel_booking", {"booking_id": "B-88"}), "Cancel my booking"),
        ),
        Case(
            "wave10.langchain.structured_tool.currency_code",
            "tool_call_malformed",
            _raises(
                run_agent_turn,
                _tool_reply("convert_currency", {"amount": 40, "source_currency": "euros", "target_currency": "USD"}),
                "How much is 40 euros in dollars?",
            ),
        ),
        Case(
            "wave10.langchain.pydantic_tools_parser.days",
            "tool_call_malformed",
            _raises(
                forecast_request,
                _tool_reply("GetForecast", {"city": "Lisbon", "days": "the weekend"}),
                "Weather in Lisbon this weekend?",
            ),
        ),
        Case(
            "wave10.langchain.json_tools_parser.python_repr",
            "tool_call_malformed",
            _raises(
                tool_calls_of,
                _reply_model(
                    AIMessage(
                        content="",
                        additional_kwargs={"tool_calls": [_raw_call("lookup_flight", "{'flight': 'TP1351'}")]},
                    )
                ),
                "Is TP1351 on time?",
            ),
        ),
        Case(
            "wave10.langchain.parse_tool_call.cut_short",
            "tool_call_malformed",
            _raises(pending_tool_call, _raw_call("send_email", '{"to": "ana@example.com", "body": "Hi Ana, your re')),
        ),
        Case(
            "wave10.langchain.ai_message.string_arguments",
            "tool_call_malformed",
            _raises(
                message_from_provider,
                {
                    "content": None,
                    "tool_calls": [{"id": "call_3", "function": {"name": "get_time", "arguments": "zone=Europe/Oslo"}}],
                },
            ),
        ),
        Case(
            "wave10.langchain.tool_exception.inventory_503",
            "server_error",
            _raises(stock_level.invoke, {"sku": "KET-220"}),
        ),
        Case(
            "wave10.langchain.tool_exception.no_order",
            "missing_data",
            _raises(order_status.invoke, {"order_id": "ORD-7781"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Refusals, in the standard content blocks langchain-core reads from each provider's message


def structured_answer(model: Any, question: str) -> dict[str, Any]:
    return dict((model | JsonOutputParser()).invoke(question))


def _refusal_cases() -> list[Case]:
    return [
        Case(
            "wave10.langchain.refusal.openai_field",
            "refusal",
            _raises(
                structured_answer,
                _reply_model(
                    AIMessage(
                        content="",
                        additional_kwargs={
                            "refusal": "I'm sorry, I can't provide steps for bypassing the licence check."
                        },
                        response_metadata={"model_provider": "openai", "finish_reason": "stop"},
                    )
                ),
                "How do I skip the licence check in AcmeCAD?",
            ),
        ),
        Case(
            "wave10.langchain.refusal.anthropic_stop_reason",
            "refusal",
            _raises(
                structured_answer,
                _reply_model(
                    AIMessage(
                        content=[{"type": "text", "text": ""}],
                        response_metadata={"model_provider": "anthropic", "stop_reason": "refusal"},
                    )
                ),
                "Write the exploit for this CVE as JSON steps.",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Prompt templates from the application's settings

PROMPTS = {
    "triage": "You triage tickets for {company}. Customer tier: {customer_tier}.",
    "digest": "Summarise {document for the {audience}.",
}


def triage_messages(question: str) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", PROMPTS["triage"]), ("human", "{question}")])
    return prompt.invoke({"question": question, "company": "Acme"})


def digest_prompt() -> PromptTemplate:
    return PromptTemplate.from_template(PROMPTS["digest"])


def load_prompt_file(directory: Path) -> Any:
    path = directory / "prompts" / "summary.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("_type: few_shot_chat\ninput_variables: [document]\ntemplate: 'Summarise {document}'\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_prompt(path)


def _prompt_cases(tmp: Path) -> list[Case]:
    return [
        Case("wave10.langchain.prompt.missing_variable", "configuration", _raises(triage_messages, "Refund?")),
        Case("wave10.langchain.prompt.unclosed_brace", "configuration", _raises(digest_prompt)),
        Case("wave10.langchain.prompt_file.unsupported_type", "configuration", _raises(load_prompt_file, tmp)),
    ]


# --------------------------------------------------------------------------------------------------
# Runnables over fake chat models whose calls raise the SDKs' own errors

_TPM = (
    "Rate limit reached for gpt-4.1-mini in organization org-Qx2mV7 on tokens per min (TPM): Limit 200000, "
    "Used 199120, Requested 2311. Please try again in 429ms. Visit https://platform.openai.com/account/rate-limits "
    "to learn more."
)


def answer_with_retry(model: Any, question: str) -> str:
    chain = _SUPPORT_PROMPT | model.with_retry(stop_after_attempt=2, wait_exponential_jitter=False) | StrOutputParser()
    return str(chain.invoke({"question": question}))


def answer_with_fallbacks(primary: Any, fallback: Any, question: str, handled: tuple[type[BaseException], ...]) -> str:
    chain = _SUPPORT_PROMPT | primary.with_fallbacks([fallback], exceptions_to_handle=handled) | StrOutputParser()
    return str(chain.invoke({"question": question}))


async def streamed_reply(model: Any, question: str, deadline: float) -> str:
    chain = (_SUPPORT_PROMPT | model | StrOutputParser()).with_config(run_name="draft_reply", tags=["support"])
    parts = []
    async with asyncio.timeout(deadline):
        async for part in chain.astream({"question": question}):
            parts.append(part)
    return "".join(parts)


async def batch_cancelled_at_shutdown(model: Any) -> list[Any]:
    batch = asyncio.create_task(model.abatch(["Summarise ticket 1", "Summarise ticket 2"], {"max_concurrency": 2}))
    await asyncio.sleep(0.01)
    batch.cancel()
    return list(await batch)


def passages_for(question: str, port: int) -> list[str]:
    def fetch(query: str) -> list[str]:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            return list(client.get("/search", params={"q": query}).json()["passages"])

    retrieval = RunnableLambda(fetch).with_retry(
        retry_if_exception_type=(httpx.TransportError,), stop_after_attempt=2, wait_exponential_jitter=False
    )
    return list(retrieval.invoke(question))


def _runnable_cases() -> list[Case]:
    overflow = _openai_chat(
        400,
        _openai_err(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 "
            "tokens (129100 in the messages, 1972 in the functions). Please reduce the length of the messages or "
            "functions.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
        ),
    )
    return [
        Case(
            "wave10.langchain.with_retry.openai_tpm",
            "rate_limit",
            _raises(
                answer_with_retry,
                _openai_chat(429, _openai_err(_TPM, "tokens", "rate_limit_exceeded")),
                "Where is my parcel?",
            ),
        ),
        Case(
            "wave10.langchain.with_fallbacks.capacity",
            "overloaded",
            _raises(
                answer_with_fallbacks,
                _mistral_chat(
                    429,
                    {
                        "object": "error",
                        "message": "Service tier capacity exceeded for this model.",
                        "type": "service_tier_capacity_exceeded",
                        "param": None,
                        "code": "3505",
                    },
                ),
                _gemini_chat(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
                "Where is my parcel?",
                (Exception,),
            ),
        ),
        Case(
            "wave10.langchain.with_fallbacks.unhandled_permission",
            "auth",
            _raises(
                answer_with_fallbacks,
                _anthropic_chat(
                    403, "permission_error", "Your API key does not have permission to use the specified resource."
                ),
                FakeListChatModel(responses=["Your parcel is on its way."]),
                "Where is my parcel?",
                (anthropic.RateLimitError, anthropic.InternalServerError),
            ),
        ),
        Case(
            "wave10.langchain.integration.context_overflow",
            "context_length_exceeded",
            _raises(
                OverflowMappingChat(complete=overflow.complete).invoke, [HumanMessage("Summarise: " + "word " * 50)]
            ),
        ),
        Case(
            "wave10.langchain.with_config.stream_deadline",
            "timeout",
            _araises(
                lambda: streamed_reply(  # the deadline falls in the model's first sleep however loaded the host
                    FakeListChatModel(responses=["Your parcel left the depot this morning."], sleep=60),
                    "Where is my parcel?",
                    1.0,
                )
            ),
        ),
        Case(
            "wave10.langchain.abatch.cancelled",
            "cancelled",
            _araises(lambda: batch_cancelled_at_shutdown(FakeListChatModel(responses=["Done."], sleep=0.5))),
        ),
        Case(
            "wave10.langchain.with_retry.retrieval_refused",
            "connection",
            _raises(passages_for, "refund policy", _closed_port()),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Settings, stored history, vector stores, serialised prompts and callbacks


def restore_history(record: str) -> list[BaseMessage]:
    return messages_from_dict(json.loads(record)["messages"])


def search_api_key() -> str:
    with _env(ACME_SEARCH_API_KEY=None):
        return get_from_env("api_key", "ACME_SEARCH_API_KEY")


def community_loaders() -> Any:
    return guard_import("langchain_community.document_loaders", pip_name="langchain-community")


def fit_history(history: list[BaseMessage], model: Any) -> list[BaseMessage]:
    return list(trim_messages(history, max_tokens=3000, token_counter=model, strategy="last"))


def load_index(path: Path) -> InMemoryVectorStore:
    return InMemoryVectorStore.load(str(path), embedding=DeterministicFakeEmbedding(size=16))


def cached_prompt(blob: str) -> Any:
    return loads(blob)


def top_passage(store: InMemoryVectorStore, question: str) -> str:
    return store.as_retriever(search_kwargs={"k": 1}).invoke(question)[0].page_content


def cite_sources(store: InMemoryVectorStore, question: str) -> list[str]:
    return [document.metadata["source"] for document in store.similarity_search(question, k=2)]


class TraceFileHandler(BaseCallbackHandler):
    """Appends every model call to a JSONL trace file; a trace that cannot be written fails the call."""

    raise_error = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kw: Any) -> None:
        with self.path.open("a") as trace:
            trace.write(json.dumps({"event": "start", "messages": len(messages)}) + "\n")


def traced_answer(model: Any, question: str, trace_path: Path) -> Any:
    return model.invoke(question, config={"callbacks": [TraceFileHandler(trace_path)]})


def _stored_cases(tmp: Path) -> list[Case]:
    cut_index = tmp / "index.json"
    cut_index.write_text('{"d1": {"id": "d1", "vector": [0.12, -0.4, ')
    empty = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    unsourced = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    unsourced.add_documents([Document("Refunds take five days.", metadata={"title": "Refund policy"})])
    return [
        Case(
            "wave10.langchain.history.unknown_type",
            "corrupted_data",
            _raises(
                restore_history,
                '{"session": "s-19", "messages": [{"type": "human", "data": {"content": "Hi"}}, '
                '{"type": "assistant_v2", "data": {"content": "Hello!"}}]}',
            ),
        ),
        Case("wave10.langchain.settings.env_key", "configuration", _raises(search_api_key)),
        Case("wave10.langchain.settings.guard_import", "configuration", _raises(community_loaders)),
        Case(
            "wave10.langchain.trim_messages.no_tokenizer",
            "configuration",
            _quietly(fit_history, [HumanMessage("Where is my parcel?")], FakeListChatModel(responses=["x"])),
        ),
        Case("wave10.langchain.vector_index.missing_file", "file_not_found", _raises(load_index, tmp / "gone.json")),
        Case("wave10.langchain.vector_index.cut_short", "corrupted_data", _raises(load_index, cut_index)),
        Case(
            "wave10.langchain.serialised_prompt.cut_short",
            "corrupted_data",
            _quietly(
                cached_prompt,
                '{"lc": 1, "type": "constructor", "id": ["langchain", "prompts", "prompt", "PromptTemplate"], '
                '"kwargs": {"template": "Summarise {document',
            ),
        ),
        Case("wave10.langchain.retriever.empty_index", "missing_data", _raises(top_passage, empty, "refund policy")),
        Case("wave10.langchain.retriever.no_source", "missing_data", _raises(cite_sources, unsourced, "refunds")),
        Case(
            "wave10.langchain.callback.trace_directory",
            "file_not_found",
            _raises(
                traced_answer,
                FakeListChatModel(responses=["Hello"]),
                "Hi",
                tmp / "traces" / "2026-12-02" / "calls.jsonl",
            ),
        ),
    ]


def build_wave10_first_batch() -> list[Case]:
    with _fixed_directory("wave10-first") as tmp:  # the same path every run: the fallback trains on these messages
        return [
            *_parser_cases(),
            *_tool_cases(),
            *_refusal_cases(),
            *_prompt_cases(tmp),
            *_runnable_cases(),
            *_stored_cases(tmp),
        ]


# --------------------------------------------------------------------------------------------------
# Second batch: the SDKs' exception classes and error bodies no earlier wave raised
#
# OpenAI's provider set-up (Vertex, Bedrock), workload identity and webhooks, and background Responses that failed


def vertex_client() -> openai.OpenAI:
    """The OpenAI SDK's own Vertex provider; the project comes from the deployment's environment."""
    with _env(GOOGLE_CLOUD_PROJECT=None):
        return openai.OpenAI(provider=vertex(location="europe-west4"), max_retries=0)


def bedrock_client(settings: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(provider=bedrock(region=settings["aws_region"]), max_retries=0)


def workload_client(token_path: Path) -> Any:
    identity: Any = {
        "identity_provider_id": "idp_7f3c2a",
        "service_account_id": "sa_reporting",
        "provider": k8s_service_account_token_provider(token_path),
    }
    client = openai.OpenAI(
        workload_identity=identity,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(_json_handler2(200, {}))),
    )
    return client.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": "ping"}])


def exchange_workload_token(token_url: str) -> str:
    """Start-up check: trade the pod's identity token for an OpenAI token before serving."""
    identity: Any = {
        "identity_provider_id": "idp_7f3c2a",
        "service_account_id": "sa_reporting",
        "provider": {"token_type": "jwt", "get_token": lambda: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvcnRpbmcifQ.c2ln"},
    }
    return WorkloadIdentityAuth(workload_identity=identity, token_exchange_url=token_url).get_token()


def batch_webhook(payload: str, headers: dict[str, str]) -> Any:
    with _env(OPENAI_WEBHOOK_SECRET=None):
        return openai.OpenAI(api_key="sk-proj-test", max_retries=0).webhooks.unwrap(payload, headers)


class BackgroundResponseFailed(RuntimeError):
    """App-level: a background Responses run ended ``failed``; its error is passed on in OpenAI's words."""


def background_result(client: openai.OpenAI, response_id: str) -> str:
    response = client.responses.retrieve(response_id)
    if response.status == "failed" and response.error is not None:
        raise BackgroundResponseFailed(
            f"background response {response.id} failed: {response.error.code}: {response.error.message}"
        )
    return response.output_text


_BACKGROUND = {"id": "resp_bg_0c41e2", "object": "response", "created_at": 1764650000, "model": "gpt-4.1"}


def _failed_background(code: str, message: str) -> BaseException:
    failed = {"background": True, "status": "failed", "output": [], "error": {"code": code, "message": message}}
    body = _BACKGROUND | failed
    return _raises(background_result, _openai_client(_json_handler(200, body)), "resp_bg_0c41e2")


def _openai_second_cases(tmp: Path) -> list[Case]:
    with _http_server(
        401,
        json.dumps(
            {"error": "invalid_grant", "error_description": "The subject token has expired or is not yet valid."}
        ),
    ) as url:
        exchange = _raises(exchange_workload_token, url + "/oauth/token")
    return [
        Case("wave10.openai.vertex_provider.project_unset", "configuration", _raises(vertex_client)),
        Case(
            "wave10.openai.bedrock_provider.region", "configuration", _raises(bedrock_client, {"aws_region": "eu-west"})
        ),
        Case(
            "wave10.openai.workload_identity.token_file",
            "file_not_found",
            _raises(workload_client, tmp / "serviceaccount" / "token"),
        ),
        Case("wave10.openai.workload_identity.exchange_rejected", "auth", exchange),
        Case(
            "wave10.openai.webhook.secret_unset",
            "configuration",
            _raises(
                batch_webhook,
                '{"id": "evt_68a0", "type": "batch.completed", "data": {"id": "batch_68a0"}}',
                {"webhook-id": "wh_68a0", "webhook-timestamp": "1764650000", "webhook-signature": "v1,K5oZfzN95Z9U"},
            ),
        ),
        Case(
            "wave10.openai.background_response.vector_store_timeout",
            "timeout",
            _failed_background("vector_store_timeout", "Timed out while searching the vector store vs_68a0kb."),
        ),
        Case(
            "wave10.openai.background_response.image_policy",
            "content_filter",
            _failed_background(
                "image_content_policy_violation", "The image was rejected because it violates our content policy."
            ),
        ),
        Case(
            "wave10.openai.background_response.invalid_prompt",
            "content_filter",
            _failed_background(
                "invalid_prompt",
                "Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again "
                "with a different prompt.",
            ),
        ),
        Case(
            "wave10.openai.background_response.image_too_large",
            "bad_request",
            _failed_background("image_too_large", "The image is too large. Images must be smaller than 50 MB."),
        ),
    ]


# Anthropic's error codes no earlier wave used (``anthropic/types/shared``), and its identity token file


def anthropic_token_from_file(path: Path) -> str:
    return IdentityTokenFile(path)()


def _anthropic_second_cases(tmp: Path) -> list[Case]:
    return [
        Case(
            "wave10.anthropic.ramp_limit",
            "rate_limit",
            _anthropic_coded(
                429,
                "rate_limit_error",
                "This request would exceed your organization's ramp limit, which caps how fast usage can grow. "
                "Please retry after the time in the retry-after header.",
                "ramp_limit_exceeded",
            ),
        ),
        Case(
            "wave10.anthropic.contract_spend_limit",
            "quota_exceeded",
            _anthropic_coded(
                429,
                "rate_limit_error",
                "Your organization has reached the spend limit of its contract. Contact your account team to raise it.",
                "contract_spend_limit_reached",
            ),
        ),
        Case(
            "wave10.anthropic.cmek_context_unavailable",
            "server_error",
            _anthropic_coded(
                503,
                "api_error",
                "The workspace's encryption settings could not be read, so the request was refused. Retry in a few "
                "minutes.",
                "cmek_context_unavailable",
            ),
        ),
        Case(
            "wave10.anthropic.request_body_encoding_invalid",
            "bad_request",
            _anthropic_coded(
                400,
                "invalid_request_error",
                "The request body is not valid for its Content-Encoding: gzip.",
                "request_body_encoding_invalid",
            ),
        ),
        Case(
            "wave10.anthropic.request_body_too_large_after_decoding",
            "bad_request",
            _anthropic_coded(
                413,
                "request_too_large",
                "The compressed request body exceeds the 32 MB request size limit once decoded.",
                "request_body_too_large_after_decoding",
            ),
        ),
        Case(
            "wave10.anthropic.identity_token_file",
            "file_not_found",
            _raises(anthropic_token_from_file, tmp / "anthropic" / "identity-token"),
        ),
    ]


# requests' own classes: settings that reach its request, and a retry policy that gives up


def search_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {os.environ['ACME_SEARCH_TOKEN']}"}


def web_search(base_url: str, query: str) -> Any:
    return requests.get(base_url + "/v1/search", params={"q": query}, headers=search_headers(), timeout=2)


def fetch_through_proxy(url: str) -> Any:
    with _env(HTTPS_PROXY="http://:3128"):
        return requests.get(url, timeout=2)


def post_feedback(settings: dict[str, str], rating: int) -> Any:
    return requests.post(settings["feedback_url"] + "/v1/feedback", json={"rating": rating}, timeout=2)


def embed_with_retries(base_url: str, texts: list[str]) -> Any:
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=2, status_forcelist=[502], backoff_factor=0)))
    return session.get(base_url + "/v1/embed", params={"input": texts}, timeout=2)


def _requests_cases() -> list[Case]:
    with _env(ACME_SEARCH_TOKEN="acme-test-token\n"):
        header = _raises(web_search, f"http://127.0.0.1:{_closed_port()}", "refund policy")
    with _http_server(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html") as url:
        retried = _raises(embed_with_retries, url, ["refunds take five days"])
    proxy = _raises(fetch_through_proxy, "https://docs.acme.example/refunds")
    schemeless = _raises(post_feedback, {"feedback_url": "feedback.acme.internal"}, 4)
    return [
        Case("wave10.requests.invalid_header.token_newline", "configuration", header),
        Case("wave10.requests.invalid_proxy_url", "configuration", proxy),
        Case("wave10.requests.missing_schema.feedback_url", "configuration", schemeless),
        Case("wave10.requests.retry_error.embed_502", "server_error", retried),
    ]


# Tool schemas from the application's registry, checked with jsonschema; settings checked by pydantic

TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "forecast": {"type": "object", "properties": {"days": {"type": "integr"}}, "required": ["days"]},
    "refund": {"type": "object", "properties": {"amount": {"type": "money"}}},
    "ship": {"type": "object", "properties": {"address": {"$ref": "#/$defs/Address"}}},
}


def check_tool_arguments(tool_name: str, arguments: dict[str, Any]) -> None:
    jsonschema.validate(arguments, TOOL_SCHEMAS[tool_name])


def check_with_registered_validator(tool_name: str, arguments: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(TOOL_SCHEMAS[tool_name]).validate(arguments)


class DeploymentSettings(pydantic.BaseModel):
    region: str
    model: str

    @pydantic.field_validator("region")
    @classmethod
    def deployed_region(cls, region: str) -> str:
        if region not in ("eu-west-1", "us-east-1"):
            raise pydantic_core.PydanticCustomError(
                "unsupported_region", "region {region} has no deployment of the model", {"region": region}
            )
        return region


def deployment_settings(raw: dict[str, str]) -> DeploymentSettings:
    return DeploymentSettings.model_validate(raw)


def _schema_cases() -> list[Case]:
    forecast = _raises(check_tool_arguments, "forecast", {"days": 3})
    refund = _raises(check_with_registered_validator, "refund", {"amount": 12})
    ship = _raises(check_with_registered_validator, "ship", {"address": {"city": "Oslo"}})
    settings = _raises(deployment_settings, {"region": "ap-south-2", "model": "claude-sonnet-4-5"})
    return [
        Case("wave10.jsonschema.tool_schema.invalid_type_name", "configuration", forecast),
        Case("wave10.jsonschema.tool_schema.unknown_type", "configuration", refund),
        Case("wave10.jsonschema.tool_schema.unresolvable_ref", "configuration", ship),
        Case("wave10.pydantic.settings.custom_error", "configuration", settings),
    ]


def build_wave10_second_batch() -> list[Case]:
    with _fixed_directory("wave10-second") as tmp:  # the same path every run, as the first batch's
        return [*_openai_second_cases(tmp), *_anthropic_second_cases(tmp), *_requests_cases(), *_schema_cases()]


def build_wave10_cases() -> list[Case]:
    return [*build_wave10_first_batch(), *build_wave10_second_batch()]
