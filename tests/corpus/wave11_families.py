"""Development-only cases for the families of rules 2026.12.03-10 (issue 19, eleventh session, helper classify11).

Written by the rule writer, not by a corpus wave: each case illustrates a family broadened from the libraries'
and providers' own wording for the labels weakest in the sealed part's aggregate figures (configuration, missing
and corrupted data, out of memory, content filter, truncation), so every scenario is recorded in the development
part of ``broad_split.json`` by hand, never by :func:`tests.corpus.broad.assign`. None comes from a sealed case
or a public issue thread. Real raises through the library or built-in that words the failure (decimal, time, socket,
subprocess, datetime, netrc, runpy, pandas, numpy, pyarrow, bz2, array, uuid, the OpenAI SDK against a compatible
server's body), a library's class raised as its own code raises it (botocore's ``ClientError``, clickhouse-connect's
``DatabaseError``), else an application's own check of a reply or of a service's report in that service's words
(ClickHouse's error names, Google's geocoding statuses, Cloudflare Workers AI, AssemblyAI, Heroku, Bedrock, Vertex,
Cohere, Stability, Gemini's block reasons as google-genai types them).

The application functions' names say nothing of the label: the library's wording or its type is the evidence.
"""

from __future__ import annotations

import array
import asyncio
import bz2
import decimal
import io
import mmap
import netrc
import runpy
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiokafka
import botocore.exceptions
import google.genai.types
import numpy
import pandas
import pyarrow.ipc
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.corpus.sdk_errors import Case, _raises
from tests.corpus.wave6 import _compatible
from tests.corpus.wave10_families import ReplyError, StepError, _family_text


def build_wave11_family_cases() -> list[Case]:
    return [
        *_configuration_cases(),
        *_memory_cases(),
        *_content_filter_cases(),
        *_truncation_cases(),
        *_corrupted_cases(),
        *_missing_cases(),
        *_service_cases(),
        *_filter_and_kill_cases(),
        *_deployment_cases(),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: a setting the standard library or pandas rejects at start-up, in its own words
# --------------------------------------------------------------------------------------------------


def set_price_precision(digits: int) -> None:
    decimal.getcontext().prec = digits


def price_context(rounding: str) -> decimal.Context:
    return decimal.Context(rounding=rounding)


def wait_before_retry(delay: float) -> None:
    time.sleep(delay)


def apply_socket_timeout(seconds: float) -> None:
    socket.setdefaulttimeout(seconds)


def request_deadline(raw: Any) -> timedelta:
    return timedelta(seconds=raw)


def show_wide_tables(option: str) -> None:
    pandas.set_option(option, 50)


def provider_login(text: str) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "netrc"
        path.write_text(text)
        return netrc.netrc(str(path)).authenticators("api.example.com")


def _configuration_cases() -> list[Case]:
    return [
        Case("wave11.families.settings.decimal_prec", "configuration", _raises(set_price_precision, 0)),
        Case("wave11.families.settings.decimal_rounding", "configuration", _raises(price_context, "ROUND_NEAREST")),
        Case("wave11.families.settings.sleep", "configuration", _raises(wait_before_retry, -0.5)),
        Case("wave11.families.settings.socket_timeout", "configuration", _raises(apply_socket_timeout, -1.0)),
        Case("wave11.families.settings.timedelta_text", "configuration", _raises(request_deadline, "30")),
        Case("wave11.families.settings.pandas_option", "configuration", _raises(show_wide_tables, "display.max_colz")),
        Case(
            "wave11.families.settings.netrc",
            "configuration",
            _raises(provider_login, "machine api.example.com login me\n  secret hunter2\n"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# out of memory: a platform's memory quota, a model server's memory needs, an allocation refused
# --------------------------------------------------------------------------------------------------


def map_index(size: int) -> mmap.mmap:
    return mmap.mmap(-1, size)


def similarity_matrix(rows: int) -> Any:
    return numpy.zeros((rows, rows), dtype=numpy.float64)


def _memory_cases() -> list[Case]:
    return [
        Case(
            "wave11.families.memory.heroku_r14",
            "out_of_memory",
            _family_text("worker dyno web.1: Error R14 (Memory quota exceeded)"),
        ),
        Case(
            "wave11.families.memory.heroku_r15",
            "out_of_memory",
            _family_text("worker dyno web.1 stopped: Error R15 (Memory quota vastly exceeded)"),
        ),
        Case(
            "wave11.families.memory.ollama_system",
            "out_of_memory",
            _compatible(
                500,
                {
                    "message": "model requires more system memory (12.3 GiB) than is available (7.6 GiB)",
                    "type": "api_error",
                },
            ),
        ),
        Case(
            "wave11.families.memory.sandbox_usage",
            "out_of_memory",
            _family_text("code sandbox terminated: memory usage exceeded 2048 MiB"),
        ),
        Case("wave11.families.memory.mmap_enomem", "out_of_memory", _raises(map_index, 2**46)),
        Case("wave11.families.memory.numpy_allocate", "out_of_memory", _raises(similarity_matrix, 10**7)),
    ]


# --------------------------------------------------------------------------------------------------
# content filter: guardrails, Vertex's RAI filter, xAI's usage-guideline checks, toxicity and moderation labels
# --------------------------------------------------------------------------------------------------


def check_bedrock_body(body: dict[str, Any]) -> str:
    """The app's check of an InvokeModel body with a guardrail attached (its own field name and value)."""
    action = body.get("amazon-bedrock-guardrailAction")
    if action and action != "NONE":
        raise ReplyError(f"amazon-bedrock-guardrailAction={action}")
    return str(body.get("completion", ""))


def check_imagen_prediction(prediction: dict[str, Any]) -> bytes:
    """Vertex AI Imagen gives no image, only the reason its responsible-AI filter removed it."""
    if "bytesBase64Encoded" not in prediction:
        raise ReplyError(f"no image returned: raiFilteredReason={prediction.get('raiFilteredReason')!r}")
    return bytes(prediction["bytesBase64Encoded"], "ascii")


def check_moderation(labels: list[dict[str, Any]]) -> None:
    """Rekognition's DetectModerationLabels on an uploaded image, before it goes to a vision model."""
    if labels:
        raise ReplyError("moderation labels found: " + ", ".join(label["Name"] for label in labels))


def check_toxicity(score: float) -> None:
    if score > 0.8:
        raise ReplyError(f"toxic content detected in the draft reply (score={score:.2f})")


def _content_filter_cases() -> list[Case]:
    return [
        Case(
            "wave11.families.content_filter.bedrock_guardrail",
            "content_filter",
            _raises(check_bedrock_body, {"amazon-bedrock-guardrailAction": "INTERVENED", "completion": ""}),
        ),
        Case(
            "wave11.families.content_filter.imagen_rai",
            "content_filter",
            _raises(check_imagen_prediction, {"raiFilteredReason": "Your current safety filter threshold prohibits"}),
        ),
        Case(
            "wave11.families.content_filter.xai_guidelines",
            "content_filter",
            _compatible(
                403,
                {
                    "message": "Content violates usage guidelines. Team: t-1, API key ID: k-2, Model: grok-4, "
                    "Failed check: SAFETY_CHECK_TYPE_BIO",
                    "code": "permission_denied",
                },
            ),
        ),
        Case(
            "wave11.families.content_filter.moderation_labels",
            "content_filter",
            _raises(check_moderation, [{"Name": "Explicit Nudity", "Confidence": 98.1}]),
        ),
        Case("wave11.families.content_filter.toxicity", "content_filter", _raises(check_toxicity, 0.93)),
        Case(
            "wave11.families.content_filter.guardrail_tripped",
            "content_filter",
            _family_text("output guardrail tripped: the reply was withheld"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# truncation: a token limit reached while generating, a reply cut short, in an application's words
# --------------------------------------------------------------------------------------------------


def _truncation_cases() -> list[Case]:
    return [
        Case(
            "wave11.families.truncation.token_limit",
            "truncation",
            _family_text("summary incomplete: the model reached the maximum output token limit"),
        ),
        Case(
            "wave11.families.truncation.limit_hit",
            "truncation",
            _family_text("generation token limit hit before the JSON object closed"),
        ),
        Case(
            "wave11.families.truncation.reply_truncated",
            "truncation",
            _family_text("the reply was truncated; ask for fewer items per page"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# corrupted data: stored arrays, Arrow files, compressed streams and packed values the reader cannot read
# --------------------------------------------------------------------------------------------------


def load_embeddings(raw: bytes) -> Any:
    return numpy.load(io.BytesIO(raw))


def open_feature_file(raw: bytes) -> Any:
    return pyarrow.ipc.open_file(io.BytesIO(raw))


def inflate_transcript(raw: bytes) -> bytes:
    return bz2.decompress(raw)


def unpack_scores(raw: bytes) -> array.array[float]:
    scores = array.array("d")
    scores.frombytes(raw)
    return scores


def session_id_of(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw)


def read_exported_rows(text: str) -> Any:
    return pandas.read_json(io.StringIO(text), lines=True)


def _corrupted_cases() -> list[Case]:
    saved = io.BytesIO()
    numpy.save(saved, numpy.zeros((32, 384), dtype=numpy.float32))
    return [
        Case(
            "wave11.families.corrupted.npy_truncated",
            "corrupted_data",
            _raises(load_embeddings, saved.getvalue()[:4096]),
        ),
        Case("wave11.families.corrupted.arrow_small", "corrupted_data", _raises(open_feature_file, b"ARROW1")),
        Case(
            "wave11.families.corrupted.bz2_truncated",
            "corrupted_data",
            _raises(inflate_transcript, bz2.compress(b"user: hello\n" * 200)[:40]),
        ),
        Case("wave11.families.corrupted.array_bytes", "corrupted_data", _raises(unpack_scores, b"\x00" * 13)),
        Case("wave11.families.corrupted.uuid_bytes", "corrupted_data", _raises(session_id_of, b"\x01\x02\x03")),
        Case(
            "wave11.families.corrupted.pandas_json",
            "corrupted_data",
            _raises(read_exported_rows, '{"id": 1, "text": "a"}\n{id: 2, text: b}\n'),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# missing data: fewer results than inputs, empty arrays where results were expected
# --------------------------------------------------------------------------------------------------


def attach_vectors(texts: list[str], vectors: list[list[float]]) -> list[tuple[str, list[float]]]:
    return list(zip(texts, vectors, strict=True))


def rank(query: list[float], matrix: list[list[float]]) -> Any:
    return numpy.dot(numpy.asarray(query), numpy.asarray(matrix).reshape(-1))


def pick_example(examples: list[str]) -> Any:
    return numpy.random.default_rng(7).choice(examples)


def _missing_cases() -> list[Case]:
    return [
        Case(
            "wave11.families.missing.zip_strict",
            "missing_data",
            _raises(attach_vectors, ["refund policy", "shipping"], [[0.1, 0.2]]),
        ),
        Case("wave11.families.missing.dot_empty", "missing_data", _raises(rank, [0.1, 0.2, 0.3], [])),
        Case("wave11.families.missing.choice_empty", "missing_data", _raises(pick_example, [])),
    ]


# --------------------------------------------------------------------------------------------------
# services' documented codes and wording: ClickHouse's error names, AWS throttling codes, Google's geocoding
# statuses, Cloudflare Workers AI, AssemblyAI, Triton, Fireworks, Weaviate; runpy on a package
# --------------------------------------------------------------------------------------------------


def query_events(code: int, text: str, name: str) -> None:
    """clickhouse-connect's error for a query the server refused, in its own format."""
    raise DatabaseError(
        f"HTTPDriver for http://localhost:8123 received ClickHouse error code {code}\n"
        f" Code: {code}. DB::Exception: {text}. ({name}) (version 25.8.1.1)"
    )


def save_turn(code: str, message: str) -> None:
    """A DynamoDB write refused, as botocore raises it."""
    raise botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "PutItem")


def geocode(body: dict[str, Any]) -> Any:
    """The app's check of the Geocoding API's JSON status."""
    if body["status"] != "OK":
        raise ReplyError(f"geocoding returned status={body['status']} for {body['query']!r}")
    return body["results"][0]


def run_workers_ai(body: dict[str, Any]) -> Any:
    """Cloudflare Workers AI answers with ``success: false`` and its error list."""
    if not body["success"]:
        raise ReplyError("; ".join(f"{error['code']}: {error['message']}" for error in body["errors"]))
    return body["result"]


def transcript_text(transcript: dict[str, Any]) -> str:
    """AssemblyAI's transcript of a stored recording, polled until done."""
    if transcript["status"] == "error":
        raise ReplyError(f"transcript {transcript['id']} failed: {transcript['error']}")
    return str(transcript["text"])


def run_tool_module(name: str) -> None:
    runpy.run_module(name)


def _service_cases() -> list[Case]:
    return [
        Case(
            "wave11.families.services.clickhouse_setting",
            "configuration",
            _raises(
                query_events,
                115,
                "Setting max_threadz is neither a builtin setting nor started with the prefix 'SQL_'",
                "UNKNOWN_SETTING",
            ),
        ),
        Case(
            "wave11.families.services.clickhouse_read",
            "corrupted_data",
            _raises(
                query_events, 33, "Cannot read all data. Bytes read: 12. Bytes expected: 40", "CANNOT_READ_ALL_DATA"
            ),
        ),
        Case(
            "wave11.families.services.dynamodb_throughput",
            "rate_limit",
            _raises(
                save_turn,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
            ),
        ),
        Case(
            "wave11.families.services.geocoding_zero",
            "missing_data",
            _raises(geocode, {"status": "ZERO_RESULTS", "query": "Rue de Nulle Part 99", "results": []}),
        ),
        Case(
            "wave11.families.services.workers_ai_capacity",
            "overloaded",
            _raises(
                run_workers_ai,
                {
                    "success": False,
                    "errors": [{"code": 3040, "message": "Capacity temporarily exceeded, please try again."}],
                },
            ),
        ),
        Case(
            "wave11.families.services.assemblyai_audio",
            "corrupted_data",
            _raises(
                transcript_text,
                {
                    "id": "t-7",
                    "status": "error",
                    "error": "Transcoding failed. File does not appear to contain audio. File type is text/html.",
                },
            ),
        ),
        Case(
            "wave11.families.services.triton_model",
            "not_found",
            _family_text("[StatusCode.NOT_FOUND] Request for unknown model: 'embedder' is not found"),
        ),
        Case(
            "wave11.families.services.fireworks_model",
            "not_found",
            _compatible(404, {"message": "Model not found, inaccessible, and/or not deployed", "code": "NOT_FOUND"}),
        ),
        Case(
            "wave11.families.services.weaviate_vectorizer",
            "configuration",
            _family_text('vectorizer: no module with name "text2vec-openai" present'),
        ),
        Case("wave11.families.services.runpy_package", "configuration", _raises(run_tool_module, "email")),
    ]


# --------------------------------------------------------------------------------------------------
# providers' documented filter wording (Cohere, Bedrock Titan, Stability, Gemini's block reasons, moderation results,
# a diffusion pipeline's safety checker), a worker killed by signal 9, Hugging Face's max_new_tokens
# --------------------------------------------------------------------------------------------------


def check_prompt_feedback(response: google.genai.types.GenerateContentResponse) -> str:
    """Gemini answers a blocked prompt with no candidates and a block reason in its prompt feedback."""
    feedback = response.prompt_feedback
    if not response.candidates and feedback is not None:
        raise ReplyError(f"prompt blocked: block_reason={feedback.block_reason}")
    return response.text or ""


def check_moderation_result(result: dict[str, Any]) -> None:
    """A moderation endpoint's result for the user's message, checked before the model is called."""
    if result["flagged"]:
        flagged = [name for name, hit in result["categories"].items() if hit]
        raise ReplyError(f"user message refused: flagged={result['flagged']} categories={flagged}")


def run_tokenizer_worker() -> None:
    """A worker process the kernel killed (signal 9), as a pool's supervisor reports it."""
    worker = subprocess.run(["sh", "-c", "kill -9 $$"], check=False)
    if worker.returncode:
        raise StepError(f"tokenizer worker exited with code {worker.returncode}")


def _filter_and_kill_cases() -> list[Case]:
    blocked = google.genai.types.GenerateContentResponse(
        candidates=[],
        prompt_feedback=google.genai.types.GenerateContentResponsePromptFeedback(
            block_reason=google.genai.types.BlockedReason.OTHER
        ),
    )
    return [
        Case(
            "wave11.families.filters.cohere_blocked_output",
            "content_filter",
            _family_text(
                "cohere chat failed: blocked output: please adjust your prompt and try again, as this generation may "
                "be a potential violation of our Usage Policy"
            ),
        ),
        Case(
            "wave11.families.filters.titan",
            "content_filter",
            _family_text("bedrock titan: This request has been blocked by our content filters."),
        ),
        Case(
            "wave11.families.filters.stability",
            "content_filter",
            _family_text("image request denied: Your request was flagged by our content moderation system"),
        ),
        Case("wave11.families.filters.gemini_block_reason", "content_filter", _raises(check_prompt_feedback, blocked)),
        Case(
            "wave11.families.filters.moderation_flagged",
            "content_filter",
            _raises(check_moderation_result, {"flagged": True, "categories": {"harassment": True, "hate": False}}),
        ),
        Case(
            "wave11.families.filters.safety_checker",
            "content_filter",
            _family_text("thumbnail not generated: the image was rejected by the safety checker"),
        ),
        Case(
            "wave11.families.kills.worker_lost",
            "out_of_memory",
            _family_text("Worker exited prematurely: signal 9 (SIGKILL) Job: 7."),
        ),
        Case("wave11.families.kills.returncode", "out_of_memory", _raises(run_tokenizer_worker)),
        Case("wave11.families.kills.enomem", "out_of_memory", _family_text("mmap of the vector index failed: ENOMEM")),
        Case(
            "wave11.families.truncation.max_new_tokens",
            "truncation",
            _family_text("text-generation-inference: max_new_tokens reached before the list closed"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# deployment settings: aiokafka's client options, Kubernetes' missing secrets and config maps (the kubelet's words)
# --------------------------------------------------------------------------------------------------


def start_event_producer(**options: Any) -> None:
    async def start() -> None:
        aiokafka.AIOKafkaProducer(bootstrap_servers="localhost:9092", **options)

    asyncio.run(start())


def start_event_consumer(**options: Any) -> None:
    async def start() -> None:
        aiokafka.AIOKafkaConsumer("llm-events", bootstrap_servers="localhost:9092", **options)

    asyncio.run(start())


def wait_for_pod(events: list[dict[str, str]]) -> None:
    """The app's rollout check: the pod's warning events, as the Kubernetes API lists them."""
    warnings = [event for event in events if event["type"] == "Warning"]
    if warnings:
        raise StepError(f"pod llm-worker-0 not ready: {warnings[-1]['reason']}: {warnings[-1]['message']}")


def _pod_warning(reason: str, message: str) -> BaseException:
    return _raises(
        wait_for_pod,
        [
            {"type": "Normal", "reason": "Scheduled", "message": ""},
            {"type": "Warning", "reason": reason, "message": message},
        ],
    )


def _deployment_cases() -> list[Case]:
    return [
        Case("wave11.families.deployment.kafka_acks", "configuration", _raises(start_event_producer, acks=3)),
        Case(
            "wave11.families.deployment.kafka_compression",
            "configuration",
            _raises(start_event_producer, compression_type="snapy"),
        ),
        Case(
            "wave11.families.deployment.kafka_protocol",
            "configuration",
            _raises(start_event_consumer, security_protocol="TLS"),
        ),
        Case(
            "wave11.families.deployment.secret_key",
            "configuration",
            _pod_warning("Failed", "Error: couldn't find key OPENAI_API_KEY in Secret default/llm-keys"),
        ),
        Case(
            "wave11.families.deployment.secret",
            "configuration",
            _pod_warning("Failed", 'CreateContainerConfigError: secret "llm-keys" not found'),
        ),
        Case(
            "wave11.families.deployment.config_map",
            "configuration",
            _pod_warning(
                "FailedMount", 'MountVolume.SetUp failed for volume "settings" : configmap "llm-settings" not found'
            ),
        ),
    ]
