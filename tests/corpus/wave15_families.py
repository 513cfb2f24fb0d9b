"""Development-only cases for the families of rules 2026.12.06-14 to -17 (issue 19, fifteenth session, helper rules15).

Written by the rule writer, not by a corpus wave: each case illustrates a *kind* of failure from TAXONOMY.md's
definitions for the labels weakest in the sealed part's aggregate figures (configuration, corrupted data, out of
memory, content filter, tool calls), so every scenario is recorded in the development part of ``broad_split.json`` by
hand, never by :func:`tests.corpus.broad.assign`. None comes from a sealed case or a public issue thread. Real raises
through the standard library and the installed libraries (tomllib, configparser, yaml, json, jsonschema, pydantic,
zlib, gzip, bz2, lzma, zipfile, tarfile, pickle, base64, struct, csv, numpy, rich, packaging, click, markdown-it-py,
the Docker SDK, cramjam, google-genai's and openai's types), in application code named as applications name the kind
of step (a start-up step, a settings loader, a client set up from the environment, a cache or blob read back, a call
dispatched with a model's arguments), else a runtime's, an allocator's, a provider's or a moderation service's own
wording or values raised by the application's check. Rules -13 on these cases: 49.4 %; the kinds they did not know
are listed with rules -14 to -17 in ``tests/corpus/README.md``.
"""

from __future__ import annotations

import base64
import bz2
import configparser
import csv
import dataclasses
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import tarfile
import tomllib
import zipfile
import zlib
from typing import Any

import click
import cramjam
import docker
import jsonschema
import markdown_it
import numpy as np
import packaging.version
import pydantic
import rich.style
import yaml
from google.genai import types as genai_types
from openai.types.moderation import Categories

from tests.corpus.broad import _with_env
from tests.corpus.sdk_errors import Case, _raises
from tests.corpus.wave4 import _ini
from tests.corpus.wave10_families import ReplyError


def build_wave15_family_cases() -> list[Case]:
    return [
        *_startup_cases(),
        *_environment_cases(),
        *_read_back_cases(),
        *_memory_cases(),
        *_moderation_cases(),
        *_settings_file_cases(),
        *_function_argument_cases(),
        *_library_setting_cases(),
        *_moderation_result_cases(),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: a settings file or the environment read at start-up, by the kind of step that reads it
# --------------------------------------------------------------------------------------------------


def init_provider(text: str) -> dict[str, Any]:
    """Start-up: the provider's block of the service's TOML file."""
    return tomllib.loads(text)["provider"]


def setup_routing(text: str) -> dict[str, Any]:
    """Start-up: model routes from a YAML document."""
    return dict(yaml.safe_load(text))


def resolve_deployment(parser: configparser.ConfigParser) -> int:
    return parser.getint("deployment", "replicas")


ROUTES_SCHEMA = {"type": "object", "required": ["default_model"], "properties": {"default_model": {"type": "string"}}}


def validate_routes_file(document: dict[str, Any]) -> None:
    jsonschema.validate(document, ROUTES_SCHEMA)


@dataclasses.dataclass
class RetryPolicy:
    attempts: int
    backoff_seconds: float

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")


def _startup_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.startup.toml_unquoted",
            "configuration",
            _raises(init_provider, '[provider]\nname = "openai"\nmodel = gpt-4o\n'),
        ),
        Case("wave15_families.startup.yaml_tab", "configuration", _raises(setup_routing, "routes:\n\t- gpt-4o\n")),
        Case(
            "wave15_families.startup.ini_integer",
            "configuration",
            _raises(resolve_deployment, _ini("[deployment]\nreplicas = two\n")),
        ),
        Case(
            "wave15_families.startup.routes_schema",
            "configuration",
            _raises(validate_routes_file, {"fallback_model": "gpt-4o-mini"}),
        ),
        Case("wave15_families.startup.policy_check", "configuration", _raises(RetryPolicy, 0, 1.5)),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: values read from the environment by a client's set-up
# --------------------------------------------------------------------------------------------------


def build_client_options() -> dict[str, Any]:
    return {"timeout": float(os.environ["LLM_TIMEOUT"]), "max_retries": int(os.environ.get("LLM_RETRIES", "2"))}


def make_client() -> dict[str, Any]:
    return {"api_key": os.environ["ACME_LLM_API_KEY"], "base_url": os.environ.get("ACME_LLM_BASE_URL")}


def _environment_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.environment.timeout_text",
            "configuration",
            _with_env(build_client_options, LLM_TIMEOUT="30s"),
        ),
        Case(
            "wave15_families.environment.retries_text",
            "configuration",
            _with_env(build_client_options, LLM_TIMEOUT="30", LLM_RETRIES="two"),
        ),
        Case("wave15_families.environment.key_absent", "configuration", _with_env(make_client, ACME_LLM_API_KEY=None)),
    ]


# --------------------------------------------------------------------------------------------------
# corrupted data: bytes the application stored and reads back, by the kind of step that reads them
# --------------------------------------------------------------------------------------------------


def get_cached_reply(raw: bytes) -> Any:
    return json.loads(zlib.decompress(raw))


def fetch_transcript(raw: bytes) -> str:
    return gzip.decompress(raw).decode()


def rehydrate_session(raw: bytes) -> Any:
    return pickle.loads(raw)


def read_back_embedding(encoded: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(encoded), dtype=np.float32).reshape(-1, 4)


def load_blob(raw: bytes) -> str:
    return raw.decode("utf-8")


def restore_index(raw: bytes) -> tuple[int, ...]:
    return struct.unpack("<4I", raw)


def open_export(raw: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(raw)).namelist()


def unpack_bundle(raw: bytes) -> list[str]:
    return tarfile.open(fileobj=io.BytesIO(raw)).getnames()


def thaw_snapshot(raw: bytes) -> bytes:
    return lzma.decompress(raw)


def get_object(raw: bytes) -> bytes:
    return bz2.decompress(raw)


def read_stored_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), strict=True))


def load_price_history(raw: bytes) -> Any:
    """A tenant's stored token prices, read back: a storage word outweighs a setting's noun (price, options)."""
    return json.loads(raw)


def load_cost_per_token_cache(raw: str) -> float:
    return float(raw)


def _read_back_cases() -> list[Case]:
    cut = zlib.compress(b'{"answer": "42"}')[:-4]
    return [
        Case(
            "wave15_families.read_back.price_history", "corrupted_data", _raises(load_price_history, b'{"gpt-4o": 2.5')
        ),
        Case(
            "wave15_families.read_back.cost_cache", "corrupted_data", _raises(load_cost_per_token_cache, "2.5e-6\x00")
        ),
        Case("wave15_families.read_back.zlib_cut", "corrupted_data", _raises(get_cached_reply, cut)),
        Case("wave15_families.read_back.gzip_magic", "corrupted_data", _raises(fetch_transcript, b"PK\x03\x04data")),
        Case(
            "wave15_families.read_back.pickle_cut",
            "corrupted_data",
            _raises(rehydrate_session, pickle.dumps({"a": 1})[:-3]),
        ),
        Case(
            "wave15_families.read_back.vector_width",
            "corrupted_data",
            _raises(read_back_embedding, base64.b64encode(b"\x00" * 20).decode()),
        ),
        Case("wave15_families.read_back.latin1_bytes", "corrupted_data", _raises(load_blob, "café".encode("latin-1"))),
        Case("wave15_families.read_back.struct_short", "corrupted_data", _raises(restore_index, b"\x00" * 10)),
        Case("wave15_families.read_back.zip_not_zip", "corrupted_data", _raises(open_export, b"not a zip archive")),
        Case("wave15_families.read_back.tar_not_tar", "corrupted_data", _raises(unpack_bundle, b"\x00\x01garbage" * 8)),
        Case("wave15_families.read_back.xz_magic", "corrupted_data", _raises(thaw_snapshot, b"not xz data")),
        Case("wave15_families.read_back.bz2_magic", "corrupted_data", _raises(get_object, b"BZh9 broken")),
        Case("wave15_families.read_back.csv_quote", "corrupted_data", _raises(read_stored_rows, 'a,"b\nc,d\n')),
    ]


# --------------------------------------------------------------------------------------------------
# out of memory: a runtime's or an allocator's words, read back by the application's own check
# --------------------------------------------------------------------------------------------------


class WorkerError(RuntimeError):
    """App-level: a worker, machine or engine the application started did not come back."""


def wait_for_machine(state: dict[str, Any]) -> None:
    if state["state"] != "started":
        raise WorkerError(f"machine exited: {state['exit']}")


def join_worker(returncode: int) -> None:
    if returncode != 0:
        raise WorkerError(f"embedding worker exited with status {returncode}")


def start_engine(free_gib: float, needed_gib: float) -> None:
    if free_gib < needed_gib:
        raise WorkerError(f"failed to reserve {needed_gib} GiB for the KV cache: GPU has only {free_gib} GiB free")


def grow_buffer(size: int) -> None:
    raise WorkerError(f"realloc of size {size} failed")


def _memory_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.memory.machine_killed",
            "out_of_memory",
            _raises(wait_for_machine, {"state": "stopped", "exit": {"exit_code": 137, "oom_killed": True}}),
        ),
        Case("wave15_families.memory.worker_status", "out_of_memory", _raises(join_worker, 137)),
        Case("wave15_families.memory.kv_reserve", "out_of_memory", _raises(start_engine, 2.1, 8.0)),
        Case("wave15_families.memory.realloc", "out_of_memory", _raises(grow_buffer, 268435456)),
    ]


# --------------------------------------------------------------------------------------------------
# content filter: a safety verdict (Gemini's ratings and prompt feedback, a guardrail, a guard model) in the
# application's words around the provider's values
# --------------------------------------------------------------------------------------------------


def first_candidate_text(response: genai_types.GenerateContentResponse) -> str:
    if not response.candidates:
        feedback = response.prompt_feedback
        reason = feedback.block_reason.value if feedback and feedback.block_reason else "none"
        raise ReplyError(f"no candidates returned: prompt_feedback.block_reason is {reason}")
    candidate = response.candidates[0]
    blocked = [rating for rating in candidate.safety_ratings or [] if rating.blocked]
    if blocked:
        raise ReplyError(f"answer withheld: {blocked[0]!r}")
    return response.text or ""


def screen_prompt(verdict: str, guard: str) -> None:
    if verdict.startswith("unsafe"):
        raise ReplyError(f"{guard} verdict: {verdict}")


def _moderation_cases() -> list[Case]:
    rating = genai_types.SafetyRating(
        blocked=True,
        category=genai_types.HarmCategory.HARM_CATEGORY_HARASSMENT,
        probability=genai_types.HarmProbability.HIGH,
    )
    rated = genai_types.GenerateContentResponse(
        candidates=[genai_types.Candidate(content=None, safety_ratings=[rating])]
    )
    feedback = genai_types.GenerateContentResponsePromptFeedback(block_reason=genai_types.BlockedReason.OTHER)
    return [
        Case("wave15_families.moderation.rating_blocked", "content_filter", _raises(first_candidate_text, rated)),
        Case(
            "wave15_families.moderation.prompt_other",
            "content_filter",
            _raises(first_candidate_text, genai_types.GenerateContentResponse(prompt_feedback=feedback)),
        ),
        Case(
            "wave15_families.moderation.guardrail_verdict",
            "content_filter",
            _raises(screen_prompt, "unsafe\nS10", "input guard"),
        ),
        Case(
            "wave15_families.moderation.guardrail_blocked",
            "content_filter",
            _raises(screen_prompt, "unsafe: guardrail pii-filter blocked the input", "gateway"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: a settings file the decoder rejects is read by its loader's frame, whatever the decoder says (a BOM
# from a Windows editor, a stray comma), and a stored-data source line does not outweigh that frame
# --------------------------------------------------------------------------------------------------


def load_settings_file(raw: bytes) -> dict[str, Any]:
    return dict(json.loads(raw.decode("utf-8")))


def read_config(handle: io.StringIO) -> dict[str, Any]:
    return dict(json.load(handle))


def _settings_file_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.settings_file.byte_order_mark",
            "configuration",
            _raises(load_settings_file, b'\xef\xbb\xbf{"model": "gpt-4o"}'),
        ),
        Case(
            "wave15_families.settings_file.trailing_comma",
            "configuration",
            _raises(read_config, io.StringIO('{"model": "gpt-4o", "retries": 3,}')),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# tool calls: a schema named for a function (pydantic's validate_call, LangChain's @tool) is a call's arguments
# --------------------------------------------------------------------------------------------------


@pydantic.validate_call
def lookup_invoice(invoice_id: int, currency: str = "EUR") -> str:
    return f"{invoice_id}:{currency}"


def run_call(arguments: dict[str, Any]) -> str:
    return lookup_invoice(**arguments)


def _function_argument_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.function_arguments.wrong_type",
            "tool_call_malformed",
            _raises(run_call, {"invoice_id": "INV-7", "currency": "EUR"}),
        ),
        Case(
            "wave15_families.function_arguments.left_out",
            "tool_call_malformed",
            _raises(run_call, {"currency": "USD"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# configuration and stored data: libraries' own classes and wording for a value they reject (rich, packaging,
# click, markdown-it-py, the Docker SDK; cramjam's decoders)
# --------------------------------------------------------------------------------------------------


def console_theme(settings: dict[str, str]) -> rich.style.Style:
    return rich.style.Style.parse(settings["log_style"])


def pinned_model_version(settings: dict[str, str]) -> packaging.version.Version:
    return packaging.version.Version(settings["model_version"])


@click.command()
@click.option("--temperature", type=float)
def serve(temperature: float) -> None:
    """The service's command line."""


def start(argv: list[str]) -> None:
    serve.main(argv, standalone_mode=False)


def renderer(settings: dict[str, str]) -> markdown_it.MarkdownIt:
    return markdown_it.MarkdownIt(settings["markdown_preset"])


def sandbox(settings: dict[str, str]) -> docker.DockerClient:
    return docker.DockerClient(base_url=settings["sandbox_url"])


def get_page(raw: bytes) -> bytes:
    return bytes(cramjam.brotli.decompress(raw))


def _library_setting_cases() -> list[Case]:
    return [
        Case(
            "wave15_families.library_settings.style_colour",
            "configuration",
            _raises(console_theme, {"log_style": "bold ultraviolet"}),
        ),
        Case(
            "wave15_families.library_settings.version_pin",
            "configuration",
            _raises(pinned_model_version, {"model_version": "2024-08-06-preview"}),
        ),
        Case(
            "wave15_families.library_settings.command_line", "configuration", _raises(start, ["--temperature", "warm"])
        ),
        Case(
            "wave15_families.library_settings.markdown_preset",
            "configuration",
            _raises(renderer, {"markdown_preset": "github"}),
        ),
        Case(
            "wave15_families.library_settings.sandbox_url",
            "configuration",
            _raises(sandbox, {"sandbox_url": "tcpp://sandbox:2375"}),
        ),
        Case("wave15_families.read_back.brotli_page", "corrupted_data", _raises(get_page, b"<html>not brotli</html>")),
    ]


# --------------------------------------------------------------------------------------------------
# content filter: a moderation service's result the application raises with (OpenAI's moderation categories, as the
# SDK's model prints them; Mistral's moderation categories; Azure AI Content Safety's severities; Rekognition's
# moderation labels; a toxicity score over the application's threshold)
# --------------------------------------------------------------------------------------------------

OPENAI_CATEGORIES = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
]


def screen_input(result: Any) -> None:
    """The application's gate on a moderation service's answer, raised with what the service returned."""
    raise ReplyError(f"input refused by moderation gate: {result!r}")


def gate_toxicity(score: float, threshold: float) -> None:
    if score > threshold:
        raise ReplyError(f"draft reply toxicity {score:.2f} above the threshold {threshold}")


def _moderation_result_cases() -> list[Case]:
    flagged = Categories.model_validate({name: name == "self-harm/intent" for name in OPENAI_CATEGORIES})
    mistral = {"categories": {"sexual": False, "hate_and_discrimination": False, "violence_and_threats": True}}
    azure = {"categoriesAnalysis": [{"category": "Violence", "severity": 4}, {"category": "Hate", "severity": 0}]}
    rekognition = {"ModerationLabels": [{"Name": "Graphic Violence", "Confidence": 97.2, "ParentName": "Violence"}]}
    return [
        Case("wave15_families.moderation_result.openai_categories", "content_filter", _raises(screen_input, flagged)),
        Case("wave15_families.moderation_result.mistral_categories", "content_filter", _raises(screen_input, mistral)),
        Case("wave15_families.moderation_result.severity", "content_filter", _raises(screen_input, azure)),
        Case("wave15_families.moderation_result.image_labels", "content_filter", _raises(screen_input, rekognition)),
        Case("wave15_families.moderation_result.toxicity", "content_filter", _raises(gate_toxicity, 0.91, 0.8)),
    ]
