"""A sixth wave of broad cases, written and split before any rule was changed for them (issue 19, sixth session).

Sources, none of them public issue threads, none repeating waves 1-5's calls and messages:

* ``wave6.openrouter.*``, ``wave6.together.*``, ``wave6.xai.*``, ``wave6.moonshot.*``,
  ``wave6.zhipu.*``, ``wave6.groq.*``: OpenAI-compatible providers' own error bodies (credits,
  credit limits, spending limits, suspended balances, Zhipu's code 1113 in Chinese, a context
  limit, a wrong key answered with 400) through the OpenAI SDK.
* ``wave6.litellm_proxy.*``: LiteLLM's proxy refusing a team's and a key's budget, as the OpenAI
  SDK sees it; ``wave6.gemini.*``, ``wave6.anthropic.*``, ``wave6.mistral.*``, ``wave6.bedrock.*``:
  a per-day consumer quota, prepaid credits used up, a monthly token limit, an outstanding AWS
  balance; ``wave6.billing_service.*``, ``wave6.budget.*``: an internal billing service's 402
  through requests, an organisation's plan cap in the application's words.
* ``wave6.huggingface.*``: ``huggingface_hub`` on loopback (the hub's ``RepoNotFound`` and
  ``GatedRepo`` codes, the inference client's 429 and 402).
* ``wave6.stored.*``: stored data no wave read: Parquet, Arrow IPC, pandas CSV and JSON lines,
  LZ4 frames, Snappy, AES-GCM, ``.npy`` files, a ``tokenizer.json``, a cached embedding and a
  conversation log in JSON.
* ``wave6.settings.*``: Jinja prompt templates, httpx proxies (SOCKS without its extra, an FTP
  scheme), tiktoken encodings, a JSON settings file; ``wave6.files.*``: a Jinja template and a
  tokenizer file that are absent.
* ``wave6.reply.*``, ``wave6.tools.*``: ``jsonschema_rs`` on a structured answer and on tool
  arguments, pydantic reading Python literals as JSON; ``wave6.timeout.*``: a thread pool's
  ``result(timeout=...)``, httpx2's async read timeout; ``wave6.missing.*``: S3's ``NoSuchKey``,
  pandas ``loc``/``iloc`` and an Arrow column that is absent; ``wave6.cancelled.*``: an anyio
  scope cancelled at shutdown.
* a second batch (:func:`build_wave6_second_batch`): Fireworks' suspended account (412),
  DeepInfra's negative balance, a company gateway's spend cap and an image quota in the
  application's words; Ollama, OpenRouter, Groq, Together and DeepSeek bodies for the other API
  labels; the Hugging Face inference client's TGI input limit, 500, read timeout and refused
  connection, and an answer cut at ``length`` or refusing (the application's checks); stored
  HMAC-signed entries, base85, a YAML dialog export, a JSON column in sqlite and a session state
  with ``NaN`` (orjson); botocore's unknown service and region format, a Jinja filter, TLS
  ``cadata``, a CA bundle that is absent, pydantic-settings reading a misspelt ``.env`` key, Arrow
  failing to allocate; DynamoDB's missing ``Item``, S3's ``HeadObject`` 404, a Bedrock ``toolUse``
  and Mistral and Gemini tool calls and replies read by application code, Gemini blocking a prompt.
* a third batch (:func:`build_wave6_third_batch`): Gemini's ``BILLING_DISABLED``, Cerebras's
  ``token_quota_reached`` as LiteLLM maps it; LZ4 blocks, zstd, a Parquet page whose Snappy bytes
  are damaged; a time of day, a partial ``httpx.Timeout``, an answer schema in settings; an empty
  vote (``statistics.mode``), fewer Gemini embeddings than chunks; vLLM's context limit, OpenAI's
  moderation flag, Mistral answers cut at ``length`` or refusing, a queue worker cancelled at
  SIGTERM.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json``
before any rule was changed for them. The first batch: 49 cases in 45 scenarios, 21 cases in 18
scenarios sealed. The second (committed after the first, split and measured the same way): 35
cases, 30 new scenarios (three cases join the first batch's sealed ``wave6.huggingface.inference``),
15 cases sealed in 12 scenarios. The third (committed after the second, the same way): 15 cases in
14 scenarios, 5 cases in 5 scenarios sealed.
No case repeats an earlier wave's call and message: where an innermost exception's text matches an
earlier case's (a refused connection, a read timeout, ``Expecting value``), the call differs.

Baseline, rules 2026.12.01-9 and fallback lr-73e13e8557 (main at 1922f0c),
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave6``):

* first batch, development, 28 cases: 74.1 %. By form: as raised 75.0 %, masked structlog 75.0 %,
  masked text 78.6 %, from None 67.9 %. By label (cases): cancelled 100 % (1), configuration
  75.0 % (3), corrupted_data 58.3 % (6), file_not_found 50.0 % (2), invalid_json 100 % (1),
  missing_data 100 % (3), quota_exceeded 66.7 % (9), timeout 100 % (2), tool_call_malformed
  100 % (1).
* first batch, sealed, 21 cases: 73.8 %. By form: as raised 76.2 %, masked structlog 76.2 %,
  masked text 71.4 %, from None 71.4 %. By label (cases): auth 100 % (2), bad_request 100 % (1),
  configuration 25.0 % (3), context_length_exceeded 100 % (1), corrupted_data 55.0 % (5),
  missing_data 100 % (1), not_found 100 % (1), quota_exceeded 80.0 % (5), rate_limit 100 % (1),
  schema_mismatch 100 % (1).
* the whole sealed part (all six waves, 198 cases): 92.51 % -> 90.53 % (from None 85.4 %;
  quota_exceeded 78.6 %, corrupted_data 80.0 %, configuration 81.8 %); the whole development part
  (316 cases): 99.13 % -> 96.91 %.
* second batch, development, 20 cases: 78.8 %. By form: as raised 80.0 %, masked structlog
  80.0 %, masked text 80.0 %, from None 75.0 %. By label (cases): auth 100 % (1), bad_request
  100 % (1), configuration 50.0 % (2), content_filter 100 % (1), corrupted_data 75.0 % (4),
  file_not_found 100 % (1), missing_data 100 % (1), not_found 100 % (1), overloaded 100 % (1),
  quota_exceeded 33.3 % (3), rate_limit 100 % (1), schema_mismatch 100 % (1), tool_call_malformed
  87.5 % (2).
* second batch, sealed, 15 cases: 53.3 % in every form. By label (cases): configuration 33.3 % (3),
  connection 100 % (1), context_length_exceeded 0 % (1), corrupted_data 100 % (1), invalid_json
  100 % (1), missing_data 0 % (1), out_of_memory 0 % (1), quota_exceeded 0 % (1), refusal 0 % (1),
  server_error 100 % (1), timeout 100 % (1), tool_call_malformed 100 % (1), truncation 100 % (1).
* with both batches: this wave's development part (48 cases) 76.0 % (from None 70.8 %), its sealed
  part (36 cases) 65.3 % (as raised 66.7 %, masked structlog 66.7 %, masked text 63.9 %, from None
  63.9 %); the whole sealed part (213 cases) 87.91 % (from None 83.1 %; out_of_memory 0 % of one
  case, refusal 50.0 %, context_length_exceeded 66.7 %, quota_exceeded 73.3 %, configuration
  78.1 %, corrupted_data 80.6 %); the whole development part (336 cases) 95.83 %.
* third batch, development, 10 cases: 60.0 %. By form: as raised 60.0 %, masked structlog 60.0 %,
  masked text 70.0 %, from None 50.0 %. By label (cases): cancelled 100 % (1), configuration
  12.5 % (2), content_filter 0 % (1), corrupted_data 87.5 % (2), quota_exceeded 50.0 % (2),
  refusal 100 % (1), truncation 100 % (1).
* third batch, sealed, 5 cases: 50.0 %. By form: as raised 40.0 %, masked structlog 60.0 %, masked
  text 60.0 %, from None 40.0 %. By label (cases): configuration 100 % (1), context_length_exceeded
  100 % (1), corrupted_data 0 % (1), missing_data 25.0 % (2).
* all three batches: this wave's development part (58 cases) 73.3 % (as raised 74.1 %, masked
  structlog 74.1 %, masked text 77.6 %, from None 67.2 %), its sealed part (41 cases) 63.4 % (as
  raised 63.4 %, masked structlog 65.9 %, masked text 63.4 %, from None 61.0 %); by label, sealed:
  configuration 39.3 % (7 cases), corrupted_data 53.6 % (7), missing_data 37.5 % (4),
  quota_exceeded 66.7 % (6), context_length_exceeded 66.7 % (3), out_of_memory 0 % (1), refusal
  0 % (1), the eleven other labels 100 % (12 cases); development: quota_exceeded 57.1 % (14),
  corrupted_data 68.8 % (12), configuration 50.0 % (7), file_not_found 66.7 % (3), content_filter
  50.0 % (2), tool_call_malformed 91.7 % (3), the twelve other labels 100 % (17 cases).
* the whole sealed part (all six waves, 218 cases): 92.51 % before this wave -> 87.04 % (from None
  82.1 %; out_of_memory 0 % (one case), refusal 50.0 %, quota_exceeded 73.3 %, context_length_exceeded
  75.0 %, corrupted_data 78.4 %, configuration 78.7 %, missing_data 83.3 %); the whole development
  part (346 cases): 99.13 % -> 94.80 %.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import datetime
import hashlib
import hmac
import io
import json
import os
import sqlite3
import ssl
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import botocore.session
import cramjam
import httpx
import httpx2
import jinja2
import jsonschema_rs
import lz4.block
import lz4.frame
import numpy
import orjson
import pandas
import pyarrow
import pyarrow.ipc
import pyarrow.parquet
import pydantic
import pydantic_settings
import requests
import tiktoken
import tokenizers
import yaml
from botocore.stub import Stubber
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from huggingface_hub import InferenceClient, hf_hub_download

from tests.corpus.sdk_errors import (
    _BEDROCK_MESSAGES,
    _BEDROCK_MODEL,
    _GEMINI,
    _USER_MSG,
    Case,
    _anthropic_status,
    _araises,
    _Bedrock,
    _closed_port,
    _env,
    _gemini_client,
    _gemini_status,
    _http_server,
    _import_litellm,
    _json_handler,
    _litellm_raise,
    _mistral_client,
    _mistral_status,
    _openai_client,
    _openai_err,
    _openai_status,
    _raises,
    _stalled_server,
)
from tests.corpus.wave5 import _garbage_file

# --------------------------------------------------------------------------------------------------
# Quota and billing in many providers' and gateways' words


def _compatible(status: int, error: dict[str, Any]) -> BaseException:
    """An OpenAI-compatible provider's error body, through the OpenAI SDK (its ``base_url`` swapped)."""
    return _openai_status(status, {"error": error})


class UsageCapError(RuntimeError):
    """App-level: the application's own metering refused a call."""


def check_org_usage(used_requests: int, cap: int) -> None:
    if used_requests >= cap:
        raise UsageCapError(f"organisation org-7 has used {used_requests:,} of {cap:,} requests included in its plan")


def charge_credits(url: str) -> Any:
    """An internal billing service charges the tenant before each model call."""
    response = requests.post(url + "/v1/charges", json={"tenant": "acme", "units": 120}, timeout=2)
    response.raise_for_status()
    return response.json()


def _billing_service_402() -> BaseException:
    body = json.dumps({"error": "payment_required", "detail": "prepaid units exhausted for tenant acme"})
    with _http_server(402, body) as url:
        return _raises(charge_credits, url)


def _litellm_proxy_budget() -> BaseException:
    return _openai_status(
        400,
        {
            "error": {
                "message": "Budget has been exceeded! Team=team-support Current cost: 101.37, Max budget: 100.0",
                "type": "budget_exceeded",
                "param": None,
                "code": "400",
            }
        },
    )


def _quota_cases() -> list[Case]:
    bedrock = _Bedrock()
    return [
        Case(
            "wave6.openrouter.credits.insufficient",
            "quota_exceeded",
            _compatible(
                402,
                {"message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits", "code": 402},
            ),
        ),
        Case(
            "wave6.together.credit_limit.exceeded",
            "quota_exceeded",
            _compatible(
                402,
                {
                    "message": "Credit limit exceeded. Please navigate to https://api.together.xyz/settings/billing "
                    "to add credit or upgrade your plan.",
                    "type": "credit_limit",
                    "param": None,
                    "code": None,
                },
            ),
        ),
        Case(
            "wave6.xai.spending_limit.team",
            "quota_exceeded",
            _compatible(
                403,
                {
                    "message": "Your team 3f1c0a has either used all available credits or reached its monthly "
                    "spending limit. To continue making API requests, please purchase more credits or raise your "
                    "spending limit.",
                    "code": "permission_denied",
                },
            ),
        ),
        Case(
            "wave6.moonshot.suspended.insufficient_balance",
            "quota_exceeded",
            _compatible(
                429,
                {
                    "message": "Your account org-5c2e <ak-9x1f> is suspended due to insufficient balance, please "
                    "recharge your account or check your plan and billing details",
                    "type": "exceeded_current_quota_error",
                },
            ),
        ),
        Case(
            "wave6.zhipu.balance.code_1113",
            "quota_exceeded",
            _compatible(429, {"code": "1113", "message": "余额不足或无可用资源包,请充值。"}),
        ),
        Case("wave6.litellm_proxy.team_budget.exceeded", "quota_exceeded", _litellm_proxy_budget()),
        Case(
            "wave6.litellm_proxy.key_budget.exceeded",
            "quota_exceeded",
            _openai_status(
                400,
                {
                    "error": {
                        "message": "ExceededTokenBudget: Current spend for token: 5.02; Max Budget for Token: 5.0",
                        "type": "budget_exceeded",
                        "param": None,
                        "code": "400",
                    }
                },
            ),
        ),
        Case(
            "wave6.gemini.quota.requests_per_day_consumer",
            "quota_exceeded",
            _gemini_status(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Generate Content API requests per day' and limit 'GenerateContent "
                "request limit per day' of service 'generativelanguage.googleapis.com' for consumer "
                "'project_number:480211'.",
            ),
        ),
        Case(
            "wave6.anthropic.billing.prepaid_credits",
            "quota_exceeded",
            _anthropic_status(
                400,
                "invalid_request_error",
                "Your prepaid credits have been used up. Purchase more credits or enable auto-reload in Plans & "
                "Billing to continue.",
            ),
        ),
        Case(
            "wave6.mistral.quota.monthly_tokens",
            "quota_exceeded",
            _mistral_status(
                429,
                {
                    "object": "error",
                    "message": "You have exceeded your monthly token limit for this workspace. Upgrade your plan "
                    "in La Plateforme to continue.",
                    "type": "usage_limit_exceeded",
                    "param": None,
                    "code": "3505",
                },
            ),
        ),
        Case(
            "wave6.bedrock.quota.account_not_enabled_billing",
            "quota_exceeded",
            bedrock.error(
                "AccessDeniedException",
                "Your AWS account has an outstanding balance. Model access is suspended until the payment is made.",
                403,
            ),
        ),
        Case("wave6.billing_service.payment_required.requests", "quota_exceeded", _billing_service_402()),
        Case("wave6.budget.org_requests.plan_cap", "quota_exceeded", _raises(check_org_usage, 250_000, 250_000)),
    ]


# --------------------------------------------------------------------------------------------------
# Stored data that no longer reads: columnar files, frames, compressed and encrypted blobs


def load_feature_table(path: Path) -> Any:
    return pyarrow.parquet.read_table(path)


def load_arrow_snapshot(payload: bytes) -> Any:
    return pyarrow.ipc.open_file(pyarrow.BufferReader(payload)).read_all()


def read_labelled_examples(path: Path) -> Any:
    return pandas.read_csv(path)


def read_eval_results(text: str) -> Any:
    return pandas.read_json(io.StringIO(text), lines=True)


def restore_lz4_cache(payload: bytes) -> bytes:
    return bytes(lz4.frame.decompress(payload))


def restore_snappy_page(payload: bytes) -> bytes:
    return bytes(cramjam.snappy.decompress(payload))


def decrypt_cached_transcript(key: bytes, nonce: bytes, blob: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, blob, b"transcript")


def load_cached_embedding(blob: bytes) -> list[float]:
    return list(json.loads(blob)["vector"])


def replay_conversation_log(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_vectors(path: Path) -> Any:
    return numpy.load(path)


def load_tokenizer(text: str) -> Any:
    return tokenizers.Tokenizer.from_str(text)


def _parquet_bytes() -> bytes:
    table = pyarrow.table({"doc_id": [f"doc-{n}" for n in range(200)], "score": [n / 200 for n in range(200)]})
    sink = io.BytesIO()
    pyarrow.parquet.write_table(table, sink)
    return sink.getvalue()


def _npy_bytes() -> bytes:
    sink = io.BytesIO()
    numpy.save(sink, numpy.ones((64, 384), dtype=numpy.float32))
    return sink.getvalue()


def _sealed_transcript() -> BaseException:
    key, nonce = AESGCM.generate_key(bit_length=128), os.urandom(12)
    blob = bytearray(AESGCM(key).encrypt(nonce, b'{"turns": 14}', b"transcript"))
    blob[3] ^= 0x01
    return _raises(decrypt_cached_transcript, key, nonce, bytes(blob))


def _conversation_lines() -> bytes:
    good = json.dumps({"role": "user", "content": "Where is my order?"})
    return (good + "\n" + good + "\n" + '{"role": "assistant", "content": "Your order ships on Tu\n').encode()


def _stored_cases() -> list[Case]:
    parquet = _parquet_bytes()
    csv_text = "id,text,label\n1,refund please,billing\n2,app crashes, on start,bug,urgent\n3,thanks,other\n"
    return [
        Case(
            "wave6.stored.parquet.truncated_footer",
            "corrupted_data",
            _garbage_file("features.parquet", parquet[: len(parquet) - 40], load_feature_table),
        ),
        Case(
            "wave6.stored.arrow_ipc.not_arrow",
            "corrupted_data",
            _raises(load_arrow_snapshot, b"ARROW0\x00\x00" + b"\x17" * 64),
        ),
        Case(
            "wave6.stored.pandas_csv.extra_fields",
            "corrupted_data",
            _garbage_file("examples.csv", csv_text.encode(), read_labelled_examples),
        ),
        Case(
            "wave6.stored.pandas_jsonl.cut_off",
            "corrupted_data",
            _raises(read_eval_results, '{"case": 1, "score": 0.9}\n{"case": 2, "score": 0.'),
        ),
        Case(
            "wave6.stored.lz4.frame_garbage",
            "corrupted_data",
            _raises(restore_lz4_cache, b"\x04\x22\x4d\x18" + b"\x00" * 3 + b"not an lz4 block"),
        ),
        Case(
            "wave6.stored.snappy.garbage",
            "corrupted_data",
            _raises(restore_snappy_page, b"\xff\xff\xff\xff\x0fsnappy? no"),
        ),
        Case("wave6.stored.aes_gcm.tag_mismatch", "corrupted_data", _sealed_transcript()),
        Case(
            "wave6.stored.embedding_cache.json_cut",
            "corrupted_data",
            _raises(load_cached_embedding, b'{"model": "text-embedding-3-small", "vector": [0.0123, -0.044, 0.'),
        ),
        Case(
            "wave6.stored.conversation_log.unterminated",
            "corrupted_data",
            _garbage_file("conv-88.jsonl", _conversation_lines(), replay_conversation_log),
        ),
        Case(
            "wave6.stored.npy.truncated",
            "corrupted_data",
            _garbage_file("vectors.npy", _npy_bytes()[:5000], load_vectors),
        ),
        Case(
            "wave6.stored.tokenizer_json.damaged",
            "corrupted_data",
            _raises(load_tokenizer, '{"version": "1.0", "truncation": null, "model": {"type": "BPE", "vocab": {"a": '),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Settings parsed in neutral-looking code


def render_prompt(template_text: str, **values: Any) -> str:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return environment.from_string(template_text).render(**values)


def make_gateway_client(settings: dict[str, str]) -> httpx.Client:
    return httpx.Client(proxy=settings["proxy_url"], timeout=float(settings["timeout"]))


def encoder_for(settings: dict[str, str]) -> Any:
    return tiktoken.get_encoding(settings["encoding"])


def load_settings(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _settings_cases() -> list[Case]:
    return [
        Case(
            "wave6.settings.jinja.syntax",
            "configuration",
            _raises(render_prompt, "You are {{ assistant_name }. Answer in {{ language }}.", assistant_name="Ada"),
        ),
        Case(
            "wave6.settings.jinja.undefined",
            "configuration",
            _raises(render_prompt, "You are {{ assistant_name }}, helping {{ customer.name }}.", assistant_name="Ada"),
        ),
        Case(
            "wave6.settings.proxy.socks_without_extra",
            "configuration",
            _raises(make_gateway_client, {"proxy_url": "socks5://10.0.0.4:1080", "timeout": "30"}),
        ),
        Case(
            "wave6.settings.proxy.unknown_scheme",
            "configuration",
            _raises(make_gateway_client, {"proxy_url": "ftp://10.0.0.4:21", "timeout": "30"}),
        ),
        Case(
            "wave6.settings.tiktoken.unknown_encoding",
            "configuration",
            _raises(encoder_for, {"encoding": "cl200k_base"}),
        ),
        Case(
            "wave6.settings.json_file.trailing_comma",
            "configuration",
            _garbage_file("settings.json", b'{"model": "gpt-4o",\n "temperature": 0.2,\n}\n', load_settings),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Hugging Face: the hub's and the inference client's errors on loopback


def download_adapter(endpoint: str, repo_id: str) -> str:
    with _env(HF_HUB_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="1"), tempfile.TemporaryDirectory() as cache:
        return hf_hub_download(repo_id, "adapter_config.json", cache_dir=cache, endpoint=endpoint)


def hf_chat(url: str) -> Any:
    client = InferenceClient(base_url=url, api_key="hf_test", timeout=2)
    return client.chat_completion(messages=_USER_MSG, max_tokens=256)


def _hub(status: int, error_code: str, message: str) -> BaseException:
    with _http_server(
        status, json.dumps({"error": message}), headers={"X-Error-Code": error_code, "X-Error-Message": message}
    ) as url:
        return _raises(download_adapter, url, "acme/support-lora")


def _hf_inference(status: int, body: dict[str, Any]) -> BaseException:
    with _http_server(status, json.dumps(body)) as url:
        return _raises(hf_chat, url)


def _huggingface_cases() -> list[Case]:
    return [
        Case(
            "wave6.huggingface.hub.repo_not_found",
            "not_found",
            _hub(404, "RepoNotFound", "Repository not found"),
        ),
        Case(
            "wave6.huggingface.hub.gated",
            "auth",
            _hub(403, "GatedRepo", "Access to model acme/support-lora is restricted. You must have access to it."),
        ),
        Case(
            "wave6.huggingface.inference.rate_limited",
            "rate_limit",
            _hf_inference(429, {"error": "Rate limit reached. You reached free usage limit (reset hourly)."}),
        ),
        Case(
            "wave6.huggingface.inference.credits_depleted",
            "quota_exceeded",
            _hf_inference(
                402,
                {
                    "error": "You have depleted your monthly included credits. Purchase pre-paid credits to continue "
                    "using Inference Providers with your account."
                },
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Other labels: provider catalogues and built-ins in application code


class AnswerSchemaError(ValueError):
    """App-level: the model's structured answer does not match the schema it was asked for."""


_ANSWER_SCHEMA = {
    "type": "object",
    "required": ["verdict", "confidence"],
    "properties": {"verdict": {"enum": ["approve", "reject"]}, "confidence": {"type": "number"}},
}


def validate_answer(answer_json: str) -> dict[str, Any]:
    answer = json.loads(answer_json)
    jsonschema_rs.validate(_ANSWER_SCHEMA, answer)
    return dict(answer)


_TOOL_SCHEMA = {
    "type": "object",
    "required": ["city", "unit"],
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "additionalProperties": False,
}


def run_weather_tool(arguments_json: str) -> str:
    arguments = json.loads(arguments_json)
    jsonschema_rs.validate(_TOOL_SCHEMA, arguments)
    return f"{arguments['city']}: 4 degrees"


class Verdict(pydantic.BaseModel):
    verdict: str
    confidence: float


def parse_verdict(completion_text: str) -> Verdict:
    return Verdict.model_validate_json(completion_text)


def rerank_in_pool(pool: concurrent.futures.Executor, passages: list[str]) -> Any:
    future = pool.submit(lambda: __import__("time").sleep(1))
    return future.result(timeout=0.05)


def _pool_timeout() -> BaseException:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return _raises(rerank_in_pool, pool, ["a", "b"])


def load_system_prompt(directory: Path) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=False)
    return environment.get_template("system_prompt.j2").render()


def tokenizer_from_file(path: Path) -> Any:
    return tokenizers.Tokenizer.from_file(str(path))


async def embed_with_deadline(url: str) -> Any:
    async with httpx2.AsyncClient(base_url=url, timeout=httpx2.Timeout(0.2)) as client:
        return (await client.post("/v1/embeddings", json={"input": ["hello"]})).json()


def _other_cases() -> list[Case]:
    with tempfile.TemporaryDirectory() as directory:
        missing_prompt = _raises(load_system_prompt, Path(directory))
        missing_tokenizer = _raises(tokenizer_from_file, Path(directory) / "tokenizer.json")
    with _stalled_server() as url:
        stalled = _araises(lambda: embed_with_deadline(url))
    return [
        Case(
            "wave6.openai.catalogue.temperature_above_max",
            "bad_request",
            _openai_status(
                400,
                _openai_err(
                    "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
                    "invalid_request_error",
                    "decimal_above_max_value",
                    "temperature",
                ),
            ),
        ),
        Case(
            "wave6.groq.context.reduce_length",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "Please reduce the length of the messages or completion.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                },
            ),
        ),
        Case(
            "wave6.xai.key.incorrect",
            "auth",
            _compatible(
                400,
                {
                    "message": "Incorrect API key provided: xa***Zk. You can obtain an API key from "
                    "https://console.x.ai.",
                    "code": "Client specified an invalid argument",
                },
            ),
        ),
        Case("wave6.reply.schema.jsonschema_rs", "schema_mismatch", _raises(validate_answer, '{"verdict": "maybe"}')),
        Case(
            "wave6.reply.pydantic_json.python_literals",
            "invalid_json",
            _raises(parse_verdict, "{'verdict': 'approve', 'confidence': 0.8}"),
        ),
        Case(
            "wave6.tools.jsonschema_rs.extra_argument",
            "tool_call_malformed",
            _raises(run_weather_tool, '{"city": "Oslo", "unit": "kelvin"}'),
        ),
        Case("wave6.timeout.thread_pool.result", "timeout", _pool_timeout()),
        Case("wave6.timeout.httpx2_async.read", "timeout", stalled),
        Case("wave6.files.jinja_loader.missing_template", "file_not_found", missing_prompt),
        Case("wave6.files.tokenizer.missing", "file_not_found", missing_tokenizer),
    ]


# --------------------------------------------------------------------------------------------------
# Absent records: object storage, frames, tables; work cancelled at shutdown


def fetch_source_document(client: Any, key: str) -> bytes:
    return bytes(client.get_object(Bucket="acme-rag-sources", Key=key)["Body"].read())


def _s3_missing_object() -> BaseException:
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        client = botocore.session.Session().create_client(
            "s3",
            region_name="eu-west-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_object",
        service_error_code="NoSuchKey",
        service_message="The specified key does not exist.",
        http_status_code=404,
    )
    with stubber:
        return _raises(fetch_source_document, client, "kb/returns-policy-v3.md")


def document_row(frame: pandas.DataFrame, document_id: str) -> Any:
    return frame.loc[document_id]


def top_ranked(frame: pandas.DataFrame) -> Any:
    return frame.sort_values("score", ascending=False).iloc[0]


def stored_embeddings(table: pyarrow.Table) -> Any:
    return table.column("embedding")


async def drain_on_shutdown() -> None:
    """A worker cancelled by the service's shutdown: the task logs the cancellation it re-raises."""
    cancelled: list[BaseException] = []

    async def summarise_backlog() -> None:
        try:
            await anyio.sleep(5)
        except anyio.get_cancelled_exc_class() as exc:
            cancelled.append(exc)
            raise

    async with anyio.create_task_group() as group:
        group.start_soon(summarise_backlog)
        await anyio.sleep(0.01)
        group.cancel_scope.cancel("service shutting down")
    raise cancelled[0]


def _missing_cases() -> list[Case]:
    frame = pandas.DataFrame({"score": [0.82, 0.41]}, index=["doc-3", "doc-17"])
    table = pyarrow.table({"doc_id": ["doc-3"], "text": ["Refunds within 30 days."]})
    return [
        Case("wave6.missing.s3.no_such_key", "missing_data", _s3_missing_object()),
        Case("wave6.missing.frame_loc.document", "missing_data", _raises(document_row, frame, "doc-9")),
        Case(
            "wave6.missing.frame_iloc.no_candidates",
            "missing_data",
            _raises(top_ranked, pandas.DataFrame({"score": []})),
        ),
        Case("wave6.missing.arrow_column.embedding", "missing_data", _raises(stored_embeddings, table)),
        Case("wave6.cancelled.anyio_scope.shutdown", "cancelled", _araises(drain_on_shutdown)),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: more quota wording, gateways and the inference client


class GatewayRefusedError(RuntimeError):
    """App-level: the company's LLM gateway refused the call; its reason is in the message."""


def gateway_chat(url: str) -> Any:
    response = httpx.post(url + "/v1/chat/completions", json={"model": "support-default", "messages": _USER_MSG})
    if response.is_error:
        raise GatewayRefusedError(f"llm-gateway: {response.json()['error']['message']}")
    return response.json()


def _gateway(status: int, message: str) -> BaseException:
    with _http_server(status, json.dumps({"error": {"message": message}})) as url:
        return _raises(gateway_chat, url)


def reserve_image_generation(workspace: str, generated: int, quota: int) -> None:
    if generated >= quota:
        raise UsageCapError(f"monthly image-generation quota ({quota}) reached for workspace {workspace}")


def _second_quota_cases() -> list[Case]:
    return [
        Case(
            "wave6.fireworks.account.suspended",
            "quota_exceeded",
            _compatible(
                412,
                {
                    "object": "error",
                    "type": "invalid_request_error",
                    "message": "Account accounts/acme is suspended, possibly due to reaching the monthly spending "
                    "limit or failure to pay past invoices.",
                },
            ),
        ),
        Case(
            "wave6.deepinfra.balance.negative",
            "quota_exceeded",
            _compatible(402, {"message": "Your balance is negative. Please top up your account to continue."}),
        ),
        Case(
            "wave6.gateway.virtual_key.spend_cap",
            "quota_exceeded",
            _gateway(429, "monthly spend cap of $500.00 reached for virtual key vk-support; resets on the 1st"),
        ),
        Case(
            "wave6.budget.images.monthly_quota",
            "quota_exceeded",
            _raises(reserve_image_generation, "ws-12", 500, 500),
        ),
    ]


class TruncatedAnswerError(RuntimeError):
    """App-level: the answer stopped at the output limit."""


class RefusedAnswerError(RuntimeError):
    """App-level: the answer is a refusal (the application's own check)."""


_REFUSAL_OPENINGS = ("i'm unable to help", "i can't help", "i cannot assist")


def hf_answer(url: str) -> str:
    completion = hf_chat(url)
    choice = completion.choices[0]
    if choice.finish_reason == "length":
        raise TruncatedAnswerError(f"answer cut at max_tokens (finish_reason={choice.finish_reason})")
    text = str(choice.message.content)
    if text.lower().startswith(_REFUSAL_OPENINGS):
        raise RefusedAnswerError(f"model declined: {text!r}")
    return text


def _hf_completion(content: str, finish_reason: str) -> BaseException:
    body = {
        "id": "chatcmpl-hf1",
        "object": "chat.completion",
        "created": 1764633600,
        "model": "meta-llama/Llama-3.3-70B-Instruct",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 412, "completion_tokens": 256, "total_tokens": 668},
    }
    with _http_server(200, json.dumps(body)) as url:
        return _raises(hf_answer, url)


def _hf_stalled() -> BaseException:
    with _stalled_server() as url:
        client = InferenceClient(base_url=url, api_key="hf_test", timeout=0.2)
        return _raises(client.chat_completion, messages=_USER_MSG, max_tokens=64)


def _huggingface_second_cases() -> list[Case]:
    return [
        Case(
            "wave6.huggingface.tgi.input_tokens",
            "context_length_exceeded",
            _hf_inference(
                422,
                {
                    "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: "
                    "7900 `inputs` tokens and 1024 `max_new_tokens`",
                    "error_type": "validation",
                },
            ),
        ),
        Case(
            "wave6.huggingface.inference.server_error",
            "server_error",
            _hf_inference(500, {"error": "Internal Server Error", "error_type": "generation"}),
        ),
        Case(
            "wave6.huggingface.answer.length",
            "truncation",
            _hf_completion("The quarter closed with revenue of 1.2M and three open", "length"),
        ),
        Case(
            "wave6.huggingface.answer.refusal",
            "refusal",
            _hf_completion("I'm unable to help with bypassing the licence check.", "stop"),
        ),
        Case("wave6.huggingface.inference.timeout", "timeout", _hf_stalled()),
        Case(
            "wave6.huggingface.inference.refused",
            "connection",
            _raises(hf_chat, f"http://127.0.0.1:{_closed_port()}"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: other OpenAI-compatible servers (Ollama, OpenRouter, Groq, Together, DeepSeek)


def _compatible_second_cases() -> list[Case]:
    return [
        Case(
            "wave6.ollama.model.not_pulled",
            "not_found",
            _compatible(
                404,
                {
                    "message": 'model "llama3.3:70b" not found, try pulling it first',
                    "type": "api_error",
                    "param": None,
                    "code": None,
                },
            ),
        ),
        Case(
            "wave6.openrouter.auth.no_credentials",
            "auth",
            _compatible(401, {"message": "No auth credentials found", "code": 401}),
        ),
        Case(
            "wave6.groq.request.unknown_property",
            "bad_request",
            _compatible(
                400,
                {
                    "message": "'messages.0' : property 'contents' is unsupported, did you mean 'content'?",
                    "type": "invalid_request_error",
                },
            ),
        ),
        Case(
            "wave6.together.rate.tier_limit",
            "rate_limit",
            _compatible(
                429,
                {
                    "message": "You are on tier Build Tier 1, which offers 600 queries and 180000 tokens per minute "
                    "for this model. Please slow down or upgrade your tier.",
                    "type": "rate_limit",
                },
            ),
        ),
        Case(
            "wave6.deepseek.server.overloaded",
            "overloaded",
            _compatible(503, {"message": "Server overloaded, please try again later.", "type": "server_busy"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: stored data in more formats and code shapes


class TamperedEntryError(ValueError):
    """App-level: a cached entry's HMAC does not verify."""


def cached_answer(entry: dict[str, str], key: bytes) -> str:
    expected = hmac.new(key, entry["answer"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, entry["mac"]):
        raise TamperedEntryError(f"cache entry {entry['id']}: HMAC does not verify")
    return entry["answer"]


def decode_attachment(text: bytes) -> bytes:
    return base64.b85decode(text)


def load_saved_dialog(text: str) -> Any:
    return yaml.safe_load(text)


def load_thread(connection: sqlite3.Connection, thread_id: str) -> list[Any]:
    row = connection.execute("SELECT messages FROM threads WHERE id = ?", (thread_id,)).fetchone()
    return list(json.loads(row[0]))


def _stored_thread() -> BaseException:
    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        connection.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, messages TEXT)")
        connection.execute(
            "INSERT INTO threads VALUES (?, ?)", ("th-41", '[{"role": "user", "content": "refund?"}, {"role": "ass')
        )
        return _raises(load_thread, connection, "th-41")


def read_session_state(payload: bytes) -> dict[str, Any]:
    return dict(orjson.loads(payload))


def _tampered_entry() -> BaseException:
    key = b"k" * 32
    mac = hmac.new(key, b"Refunds within 30 days.", hashlib.sha256).hexdigest()
    return _raises(cached_answer, {"id": "ans-91", "answer": "Refunds within 90 days.", "mac": mac}, key)


def _second_stored_cases() -> list[Case]:
    return [
        Case("wave6.stored.cache_hmac.mismatch", "corrupted_data", _tampered_entry()),
        Case("wave6.stored.attachment.base85", "corrupted_data", _raises(decode_attachment, b"\x00\x01")),
        Case(
            "wave6.stored.dialog_yaml.unterminated",
            "corrupted_data",
            _raises(
                load_saved_dialog,
                '- role: user\n  content: "Where is my order?\n- role: assistant\n  content: It ships Tuesday\n',
            ),
        ),
        Case("wave6.stored.thread_row.json_cut", "corrupted_data", _stored_thread()),
        Case(
            "wave6.stored.session_state.nan",
            "corrupted_data",
            _raises(read_session_state, b'{"turn": 7, "temperature": NaN, "summary": "refund"}'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: settings and files read at start-up


def runtime_client(settings: dict[str, str]) -> Any:
    return botocore.session.Session().create_client(
        settings["service"],
        region_name=settings["region"],
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )


def pinned_tls_context(settings: dict[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=settings["gateway_ca_pem"])


def gateway_client_with_ca(settings: dict[str, str]) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=settings["ca_bundle"]))


def buffer_for_upload(size: int) -> Any:
    return pyarrow.allocate_buffer(size)


def _second_settings_cases() -> list[Case]:
    with tempfile.TemporaryDirectory() as directory:
        missing_bundle = _raises(gateway_client_with_ca, {"ca_bundle": str(Path(directory) / "corp-ca.pem")})
    return [
        Case(
            "wave6.settings.botocore.unknown_service",
            "configuration",
            _raises(runtime_client, {"service": "bedrock-runtim", "region": "us-east-1"}),
        ),
        Case(
            "wave6.settings.botocore.region_format",
            "configuration",
            _raises(runtime_client, {"service": "bedrock-runtime", "region": "us east 1"}),
        ),
        Case(
            "wave6.settings.jinja_filter.unknown",
            "configuration",
            _raises(render_prompt, "Hello {{ customer_name|titel }}, how can I help?", customer_name="ada"),
        ),
        Case(
            "wave6.settings.tls_cadata.not_pem",
            "configuration",
            _raises(
                pinned_tls_context,
                {"gateway_ca_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
            ),
        ),
        Case("wave6.files.ca_bundle.missing", "file_not_found", missing_bundle),
        Case("wave6.memory.arrow_buffer.malloc", "out_of_memory", _raises(buffer_for_upload, 2**60)),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: absent records, tool calls and blocked prompts through Bedrock, DynamoDB and Gemini


def stored_profile(client: Any, user_id: str) -> dict[str, Any]:
    return dict(client.get_item(TableName="user-profiles", Key={"user_id": {"S": user_id}})["Item"])


def source_exists(client: Any, key: str) -> bool:
    client.head_object(Bucket="acme-rag-sources", Key=key)
    return True


def _aws_client(service: str) -> Any:
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        return runtime_client({"service": service, "region": "eu-west-1"})


def _dynamodb_missing_item() -> BaseException:
    client = _aws_client("dynamodb")
    stubber = Stubber(client)
    stubber.add_response("get_item", {"ConsumedCapacity": {"TableName": "user-profiles", "CapacityUnits": 0.5}})
    with stubber:
        return _raises(stored_profile, client, "u-17")


def _s3_head_missing() -> BaseException:
    client = _aws_client("s3")
    stubber = Stubber(client)
    stubber.add_client_error("head_object", service_error_code="404", service_message="Not Found", http_status_code=404)
    with stubber:
        return _raises(source_exists, client, "kb/shipping-policy.md")


class RefundArguments(pydantic.BaseModel):
    order_id: str
    amount: float


def run_bedrock_tools(response: dict[str, Any]) -> list[RefundArguments]:
    blocks = response["output"]["message"]["content"]
    return [RefundArguments.model_validate(block["toolUse"]["input"]) for block in blocks if "toolUse" in block]


def _bedrock_tool_use() -> BaseException:
    bedrock = _Bedrock()
    tool_use = {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "issue_refund", "input": {"amount": 20.0}}
    bedrock.stubber.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"toolUse": tool_use}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 310, "outputTokens": 41, "totalTokens": 351},
            "metrics": {"latencyMs": 912},
        },
    )
    with bedrock.stubber:
        response = bedrock.client.converse(modelId=_BEDROCK_MODEL, messages=_BEDROCK_MESSAGES)
    return _raises(run_bedrock_tools, response)


class PromptBlockedError(RuntimeError):
    """App-level: the provider blocked the prompt before generating."""


def gemini_text(response: Any) -> str:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise PromptBlockedError(f"Gemini blocked the prompt: block_reason={feedback.block_reason.value}")
    return str(response.text)


def _gemini_blocked() -> BaseException:
    body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 88}}
    response = _gemini_client(_json_handler(200, body)).models.generate_content(model=_GEMINI, contents="Describe it.")
    return _raises(gemini_text, response)


def _second_missing_cases() -> list[Case]:
    return [
        Case("wave6.missing.dynamodb.no_item", "missing_data", _dynamodb_missing_item()),
        Case("wave6.missing.s3_head.not_found", "missing_data", _s3_head_missing()),
        Case("wave6.tools.bedrock_tool_use.missing_field", "tool_call_malformed", _bedrock_tool_use()),
        Case("wave6.gemini.prompt.prohibited_content", "content_filter", _gemini_blocked()),
    ]


# --------------------------------------------------------------------------------------------------
# Second batch: Mistral's and Gemini's replies read by application code; a settings file


def _mistral_reply(message: dict[str, Any]) -> Any:
    body = {
        "id": "cmpl-7f1c",
        "object": "chat.completion",
        "created": 1764633600,
        "model": "mistral-large-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 210, "completion_tokens": 40, "total_tokens": 250},
    }
    return _mistral_client(_json_handler(200, body)).chat.complete(model="mistral-large-latest", messages=_USER_MSG)


def lookup_order(order_id: str) -> str:
    return f"order {order_id}: shipped"


def run_mistral_tool_calls(response: Any) -> list[str]:
    calls = response.choices[0].message.tool_calls or []
    return [lookup_order(**json.loads(call.function.arguments)) for call in calls]


def mistral_verdict(response: Any) -> Verdict:
    return Verdict.model_validate_json(str(response.choices[0].message.content))


GEMINI_TOOLS: dict[str, Callable[..., str]] = {"lookup_order": lookup_order}


def run_gemini_function_calls(response: Any) -> list[str]:
    calls = response.function_calls or []
    return [GEMINI_TOOLS[call.name](**(call.args or {})) for call in calls]


def gemini_json_answer(response: Any) -> dict[str, Any]:
    return dict(json.loads(str(response.text)))


def _gemini_parts(parts: list[dict[str, Any]]) -> Any:
    body = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 57},
        "modelVersion": _GEMINI,
    }
    return _gemini_client(_json_handler(200, body)).models.generate_content(model=_GEMINI, contents="Where is A-17?")


class ServiceSettings(pydantic_settings.BaseSettings):
    model_config = pydantic_settings.SettingsConfigDict(env_prefix="SUPPORT_", extra="forbid")

    llm_timeout_seconds: float = 30.0
    llm_model: str = "gpt-4o"


def settings_from_dotenv(path: Path) -> ServiceSettings:
    return ServiceSettings(_env_file=path)  # type: ignore[call-arg]


def _third_missing_and_reply_cases() -> list[Case]:
    tool_call = {
        "id": "D681PevKs",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": "{'order_id': 'A-17'}"},
    }
    mistral_tools = _mistral_reply({"content": "", "tool_calls": [tool_call]})
    mistral_text = _mistral_reply({"content": '{"verdict": "approve", "confidence": "high"}'})
    invented = _gemini_parts([{"functionCall": {"name": "lookup_ordr", "args": {"order_id": "A-17"}}}])
    fenced = _gemini_parts([{"text": '```json\n{"verdict": "approve", "confidence": 0.8}\n```'}])
    return [
        Case(
            "wave6.tools.mistral_arguments.python_dict",
            "tool_call_malformed",
            _raises(run_mistral_tool_calls, mistral_tools),
        ),
        Case("wave6.reply.mistral_verdict.confidence_word", "schema_mismatch", _raises(mistral_verdict, mistral_text)),
        Case(
            "wave6.tools.gemini_function_call.invented_name",
            "tool_call_malformed",
            _raises(run_gemini_function_calls, invented),
        ),
        Case("wave6.reply.gemini_json.fenced", "invalid_json", _raises(gemini_json_answer, fenced)),
        Case(
            "wave6.settings.dotenv.misspelt_key",
            "configuration",
            _garbage_file(
                "support.env", b"SUPPORT_LLM_MODEL=gpt-4o\nSUPPORT_LLM_TIMEOUT_SECODNS=45\n", settings_from_dotenv
            ),
        ),
    ]


def build_wave6_second_batch() -> list[Case]:
    return [
        *_second_quota_cases(),
        *_huggingface_second_cases(),
        *_compatible_second_cases(),
        *_second_stored_cases(),
        *_second_settings_cases(),
        *_second_missing_cases(),
        *_third_missing_and_reply_cases(),
    ]


# --------------------------------------------------------------------------------------------------
# Third batch: billing, daily token quotas, more stored formats, settings, empty results, other labels


def _cerebras_daily_tokens() -> BaseException:
    with _env(LITELLM_LOCAL_MODEL_COST_MAP="True"):
        exceptions = _import_litellm().exceptions
    body = json.dumps(
        {
            "message": "Tokens per day limit exceeded - too many tokens processed.",
            "type": "too_many_tokens_error",
            "param": "quota",
            "code": "token_quota_reached",
        }
    )
    return _litellm_raise(
        exceptions.RateLimitError,
        message=f"CerebrasException: Rate Limit Errror - {body}",
        llm_provider="cerebras",
        model="llama3.1-8b",
    )


def restore_lz4_block(payload: bytes) -> bytes:
    return bytes(lz4.block.decompress(payload))


def restore_zstd_chunk(payload: bytes) -> bytes:
    return bytes(cramjam.zstd.decompress(payload))


def read_corpus_shard(payload: bytes) -> int:
    return int(pyarrow.parquet.read_table(pyarrow.BufferReader(payload)).num_rows)


def _damaged_shard() -> bytes:
    table = pyarrow.table({"doc_id": [f"doc-{n}" for n in range(2000)], "text": ["refund policy text " * 5] * 2000})
    sink = io.BytesIO()
    pyarrow.parquet.write_table(table, sink, compression="snappy")
    data = bytearray(sink.getvalue())
    for offset in range(200, 2000, 7):  # the first data page's compressed bytes
        data[offset] ^= 0x5A
    return bytes(data)


def quiet_hours_start(settings: dict[str, str]) -> datetime.time:
    return datetime.time.fromisoformat(settings["quiet_hours_start"])


def client_timeouts(settings: dict[str, float]) -> httpx.Timeout:
    return httpx.Timeout(**settings)


def answer_validator(settings: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(settings["answer_schema"])


def most_voted_label(votes: list[str]) -> str:
    return statistics.mode(votes)


def embed_all(client: Any, chunks: list[str]) -> dict[str, list[float]]:
    result = client.models.embed_content(model="gemini-embedding-001", contents=chunks)
    return {chunk: list(e.values) for chunk, e in zip(chunks, result.embeddings, strict=True)}


class FlaggedInputError(RuntimeError):
    """App-level: the provider's moderation endpoint flagged the user's input, so it is not sent on."""


def moderated_input(client: Any, text: str) -> str:
    result = client.moderations.create(model="omni-moderation-latest", input=text).results[0]
    if result.flagged:
        categories = sorted(name for name, hit in result.categories.model_dump().items() if hit)
        raise FlaggedInputError(f"input flagged by moderation: categories={categories}")
    return text


def _moderation_flagged() -> BaseException:
    names = ("harassment", "hate", "self_harm", "sexual", "violence", "illicit")
    categories = {name: name == "violence" for name in names}
    body = {
        "id": "modr-5f1c",
        "model": "omni-moderation-latest",
        "results": [
            {
                "flagged": True,
                "categories": categories,
                "category_scores": {name: 0.91 if hit else 0.001 for name, hit in categories.items()},
            }
        ],
    }
    return _raises(moderated_input, _openai_client(_json_handler(200, body)), "…")


def mistral_answer(response: Any) -> str:
    choice = response.choices[0]
    if choice.finish_reason == "length":
        raise TruncatedAnswerError(f"mistral answer cut short: finish_reason={choice.finish_reason}")
    text = str(choice.message.content)
    if text.lower().startswith(_REFUSAL_OPENINGS):
        raise RefusedAnswerError(f"model declined: {text!r}")
    return text


def _mistral_finished(content: str, finish_reason: str) -> BaseException:
    body = {
        "id": "cmpl-8a2d",
        "object": "chat.completion",
        "created": 1764633600,
        "model": "mistral-large-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 210, "completion_tokens": 512, "total_tokens": 722},
    }
    response = _mistral_client(_json_handler(200, body)).chat.complete(model="mistral-large-latest", messages=_USER_MSG)
    return _raises(mistral_answer, response)


async def consume_jobs(jobs: asyncio.Queue[str]) -> None:
    while True:
        await jobs.get()


async def stop_worker() -> None:
    worker = asyncio.create_task(consume_jobs(asyncio.Queue()))
    await asyncio.sleep(0.01)
    worker.cancel("worker stopping: SIGTERM received")
    await worker


_ONE_EMBEDDING = {"embeddings": [{"values": [0.01, -0.2, 0.33]}]}  # for two chunks sent


def build_wave6_third_batch() -> list[Case]:
    return [
        Case(
            "wave6.gemini.billing.disabled",
            "quota_exceeded",
            _gemini_status(
                403,
                "PERMISSION_DENIED",
                "This API method requires billing to be enabled. Please enable billing on project #480211 by "
                "visiting https://console.developers.google.com/billing/enable?project=480211 then retry.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "BILLING_DISABLED",
                        "domain": "googleapis.com",
                        "metadata": {"consumer": "projects/480211", "service": "generativelanguage.googleapis.com"},
                    }
                ],
            ),
        ),
        Case("wave6.litellm.cerebras.token_quota_reached", "quota_exceeded", _cerebras_daily_tokens()),
        Case(
            "wave6.stored.lz4_block.corrupt",
            "corrupted_data",
            _raises(restore_lz4_block, b"\x10\x00\x00\x00garbage-garbage"),
        ),
        Case("wave6.stored.zstd.dictionary", "corrupted_data", _raises(restore_zstd_chunk, b"\x28\xb5\x2f\xfdgarbage")),
        Case("wave6.stored.parquet_page.snappy", "corrupted_data", _raises(read_corpus_shard, _damaged_shard())),
        Case(
            "wave6.settings.quiet_hours.time",
            "configuration",
            _raises(quiet_hours_start, {"quiet_hours_start": "25:00"}),
        ),
        Case("wave6.settings.httpx_timeout.partial", "configuration", _raises(client_timeouts, {"connect": 5.0})),
        Case(
            "wave6.settings.answer_schema.type",
            "configuration",
            _raises(answer_validator, {"answer_schema": {"type": "object", "properties": {"id": {"type": "strng"}}}}),
        ),
        Case("wave6.missing.votes.mode", "missing_data", _raises(most_voted_label, [])),
        Case(
            "wave6.missing.gemini_embeddings.fewer",
            "missing_data",
            _raises(embed_all, _gemini_client(_json_handler(200, _ONE_EMBEDDING)), ["refund window", "shipping times"]),
        ),
        Case(
            "wave6.vllm.context.max_tokens",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum "
                    "context length is 32768 tokens and your request has 30000 input tokens (4096 > 32768 - 30000).",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                },
            ),
        ),
        Case("wave6.openai.moderation.flagged", "content_filter", _moderation_flagged()),
        Case(
            "wave6.mistral.answer.length",
            "truncation",
            _mistral_finished("The refund policy has three parts. First, any order placed", "length"),
        ),
        Case(
            "wave6.mistral.answer.refusal",
            "refusal",
            _mistral_finished("I cannot assist with generating fake invoices.", "stop"),
        ),
        Case("wave6.cancelled.queue_worker.sigterm", "cancelled", _araises(stop_worker)),
    ]


def build_wave6_cases() -> list[Case]:
    return [
        *_quota_cases(),
        *_stored_cases(),
        *_settings_cases(),
        *_huggingface_cases(),
        *_other_cases(),
        *_missing_cases(),
        *build_wave6_second_batch(),
        *build_wave6_third_batch(),
    ]
