"""A ninth wave of broad cases, written and split before any rule was changed for them (issue 19, ninth session).

Sources, none of them public issue threads, none repeating waves 1-8's calls and messages (the eighth wave's rule
writer's development cases, ``wave8_families.py``, included); weighted to the labels weakest in the sealed part
(configuration, quota, out of memory, content filter, missing files, corrupted and missing data), and one case for
each other label:

* a first batch (:func:`build_wave9_first_batch`): plan and credit limits in DeepL's (HTTP 456), Stability AI's,
  Cloudflare Workers AI's (code 4006, daily neurons), Google's Geocoding (``OVER_DAILY_LIMIT``) and AssemblyAI's
  words, read by the application's own clients on loopback; settings looked up in AWS (SSM Parameter Store's
  ``ParameterNotFound``, Secrets Manager's ``ResourceNotFoundException``, botocore's ``Stubber``) and turned into
  objects by chdb (an unknown ClickHouse setting, in a child process), Arrow (a codec, a type alias), pandas'
  ``Timedelta``, ``socket.getservbyname`` and ``email.headerregistry``; memory in chdb's
  ``MEMORY_LIMIT_EXCEEDED``, a tool Lambda's ``Runtime.OutOfMemory``, an ECS task's ``OutOfMemoryError``,
  Upstash Redis' ``maxmemory`` and Triton's ONNX Runtime allocator; content filters in Bedrock's
  ``ApplyGuardrail``, DashScope's ``DataInspectionFailed``, Moonshot's ``content_filter`` type, Stability AI's
  ``content_moderation`` and a Llama Guard verdict; absent files: ``pdftotext`` not installed, a gettext
  catalogue, a Parquet shard read by Arrow, a model not in the Hugging Face cache offline
  (``LocalEntryNotFoundError``), a packaged prompt read with ``importlib.resources``; stored data read by Arrow
  (ORC, a cast of a score column), chdb (a Parquet file's magic bytes), KMS (``InvalidCiphertextException``) and
  ``ipaddress``; absent data: a Weaviate GraphQL search with no document, Arrow tables to concatenate, a pandas
  row's ``item()``, deciles of no score; and Lambda's throttling and missing function, STS's expired token, a
  Docker sandbox stalled and without its socket, SambaNova at capacity, an Elasticsearch 500, Comprehend's text
  size, LM Studio's context overflow, Ollama's ``done_reason=length`` and a decline, a pandas ``read_json`` of a
  reply, a pydantic discriminator, a ReAct ``Action Input`` that is not JSON and a queued tool future cancelled.
  Provider bodies are written in the shape and words each provider documents for the failure; SDK and library
  errors are raised for real.

Scenario parts are :func:`tests.corpus.broad.assign`'s hash, recorded in ``broad_split.json`` before any rule was
changed for them. The first batch: 52 cases in 48 scenarios, 12 of them sealed (14 cases). Three cases written at
first were dropped before the split as repeats of earlier waves' call and message (an empty candidate heap, an
``argmax`` of no rerank score, ``pandas.concat`` of no frame); two more replaced for the same reason (a few-shot
sample and a percentile of no score). Where only an innermost exception's text matches an earlier case's (``list
index out of range``, ``timed out``, ``Expecting value``, an empty ``CancelledError``), the call differs.

Baseline, rules 2026.12.02-7 and fallback lr-342d5fd183 (main at fb69776), no rule changed,
``python -m benchmarks.classification_accuracy``, this wave's part of each (``by_wave.wave9``):

* first batch, development, 38 cases: 52.6 %. By form: as raised 50.0 %, masked structlog 50.0 %, masked text
  57.9 %, from None 52.6 %. By label (cases): configuration 12.5 % (6), content_filter 25.0 % (4), corrupted_data
  50.0 % (4), missing_data 0 % (2), auth 25.0 % (1), bad_request, context_length_exceeded, rate_limit,
  server_error and truncation 0 % (one each), out_of_memory 100 % (5), quota_exceeded 100 % (3), file_not_found
  100 % (3), cancelled, not_found, overloaded, refusal and schema_mismatch 100 % (one each).
* first batch, sealed, 14 cases: 57.1 % in every form. Cases by label: configuration 2, file_not_found 2,
  missing_data 2, quota_exceeded 2, one each of content_filter, corrupted_data, timeout, connection, invalid_json
  and tool_call_malformed.
* the whole sealed part (all nine waves, 282 cases): 89.09 % -> 87.50 % (as raised 87.6 %, masked structlog
  87.6 %, masked text 89.7 %, from None 85.1 %); the whole development part (509 cases): 100 % -> 96.46 %.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gettext
import importlib.resources
import importlib.util
import io
import ipaddress
import json
import socket
import statistics
import subprocess
import sys
import tempfile
from email.headerregistry import Address
from pathlib import Path
from typing import Any, Literal

import botocore.session
import docker
import huggingface_hub
import pandas
import pyarrow
import pyarrow.compute
import pyarrow.csv
import pyarrow.fs
import pyarrow.orc
import pyarrow.parquet
import pydantic
import requests
from botocore.stub import Stubber

from tests.corpus.sdk_errors import Case, _env, _raises, _stalled_server
from tests.corpus.wave6 import _compatible
from tests.corpus.wave8 import ProviderError, _checked, _served


def _aws(service: str) -> Any:
    """A real botocore client (no network: each case stubs its answer with :class:`Stubber`)."""
    with _env(AWS_PROFILE=None, AWS_DEFAULT_PROFILE=None):
        return botocore.session.Session().create_client(
            service,
            region_name="eu-west-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )


def _aws_error(service: str, operation: str, code: str, message: str, status: int, call: Any, *args: Any) -> Any:
    """``call(client, *args)`` where AWS answers ``operation`` with the error ``code`` and ``message``."""
    client = _aws(service)
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=status)
    with stubber:
        return _raises(call, client, *args)


def _aws_answer(service: str, operation: str, response: dict[str, Any], call: Any, *args: Any) -> Any:
    """``call(client, *args)`` where AWS answers ``operation`` with ``response``."""
    client = _aws(service)
    stubber = Stubber(client)
    stubber.add_response(operation, response)
    with stubber:
        return _raises(call, client, *args)


def run_analytics_query(sql: str) -> str:
    """Evaluation queries run in an embedded ClickHouse (chdb) child, so a runaway query cannot take the worker."""
    script = (
        "import sys, chdb\n"
        "try:\n"
        "    print(chdb.query(sys.argv[1], 'CSV'))\n"
        "except Exception as error:\n"
        "    sys.exit(str(error))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, sql], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"analytics query failed: {done.stderr.strip()}")
    return done.stdout


# --------------------------------------------------------------------------------------------------
# Quota: translation, image, speech, maps and edge-inference plans


def deepl_translate(base_url: str, text: str) -> str:
    response = requests.post(base_url + "/v2/translate", data={"text": text, "target_lang": "DE"}, timeout=2)
    if response.status_code == 456:
        raise ProviderError(f"deepl 456: {response.json()['message']}")
    return str(_checked(response, "deepl")["translations"][0]["text"])


def stability_image(base_url: str, prompt: str) -> bytes:
    response = requests.post(
        base_url + "/v2beta/stable-image/generate/core", files={"none": ""}, data={"prompt": prompt}, timeout=2
    )
    if response.status_code >= 400:
        body = response.json()
        raise ProviderError(f"stability {response.status_code} {body['name']}: {'; '.join(body['errors'])}")
    return response.content


def workers_ai_run(base_url: str, prompt: str) -> str:
    body = requests.post(
        base_url + "/client/v4/accounts/7c1e/ai/run/@cf/meta/llama-3.1-8b-instruct", json={"prompt": prompt}, timeout=2
    ).json()
    if not body["success"]:
        error = body["errors"][0]
        raise ProviderError(f"workers ai error {error['code']}: {error['message']}")
    return str(body["result"]["response"])


def geocode(base_url: str, address: str) -> dict[str, float]:
    body = requests.get(base_url + "/maps/api/geocode/json", params={"address": address}, timeout=2).json()
    if body["status"] != "OK":
        raise ProviderError(f"geocoding {body['status']}: {body.get('error_message', '')}")
    return dict(body["results"][0]["geometry"]["location"])


def transcribe(base_url: str, audio_url: str) -> str:
    response = requests.post(base_url + "/v2/transcript", json={"audio_url": audio_url}, timeout=2)
    return str(_checked(response, "assemblyai")["id"])


def _quota_cases() -> list[Case]:
    return [
        Case(
            "wave9.deepl.translate.character_quota",
            "quota_exceeded",
            _served(456, {"message": "Quota exceeded. The character limit has been reached."}, deepl_translate, "Hi"),
        ),
        Case(
            "wave9.stability.image.credits",
            "quota_exceeded",
            _served(
                402,
                {
                    "id": "a6e3b9d2",
                    "name": "payment_required",
                    "errors": ["You lack sufficient credits to make this request. Please purchase more credits."],
                },
                stability_image,
                "a product photo of a blue kettle",
            ),
        ),
        Case(
            "wave9.workers_ai.neurons.daily_allocation",
            "quota_exceeded",
            _served(
                429,
                {
                    "success": False,
                    "errors": [
                        {
                            "code": 4006,
                            "message": "you have used up your daily free allocation of 10,000 neurons, please "
                            "upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
                        }
                    ],
                    "result": None,
                },
                workers_ai_run,
                "Classify this ticket.",
            ),
        ),
        Case(
            "wave9.geocoding.over_daily_limit",
            "quota_exceeded",
            _served(
                200,
                {
                    "status": "OVER_DAILY_LIMIT",
                    "error_message": "You have exceeded your daily request quota for this API.",
                    "results": [],
                },
                geocode,
                "1600 Amphitheatre Parkway",
            ),
        ),
        Case(
            "wave9.assemblyai.transcript.balance",
            "quota_exceeded",
            _served(
                402,
                {"error": "Your current account balance is negative. Please top up to continue using the API."},
                transcribe,
                "https://cdn.acme.example/calls/8812.mp3",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Configuration: settings looked up in AWS, and settings turned into objects at start-up


def model_name_from_parameter_store(ssm: Any, environment: str) -> str:
    return str(ssm.get_parameter(Name=f"/llm/{environment}/chat_model")["Parameter"]["Value"])


def provider_key_from_secrets_manager(secrets: Any, name: str) -> str:
    return str(secrets.get_secret_value(SecretId=name)["SecretString"])


def export_codec(settings: dict[str, str]) -> pyarrow.Codec:
    return pyarrow.Codec(settings["export_compression"])


def embedding_column_type(settings: dict[str, str]) -> pyarrow.DataType:
    return pyarrow.type_for_alias(settings["embedding_dtype"])


def session_idle_timeout(settings: dict[str, str]) -> pandas.Timedelta:
    return pandas.Timedelta(settings["session_idle_timeout"])


def smtp_port(settings: dict[str, str]) -> int:
    return socket.getservbyname(settings["alert_smtp_service"], "tcp")


def alert_sender(settings: dict[str, str]) -> Address:
    return Address(display_name="LLM alerts", addr_spec=settings["alert_from"])


def _settings_cases() -> list[Case]:
    return [
        Case(
            "wave9.settings.parameter_store.chat_model",
            "configuration",
            _aws_error("ssm", "get_parameter", "ParameterNotFound", "", 400, model_name_from_parameter_store, "prod"),
        ),
        Case(
            "wave9.settings.secrets_manager.provider_key",
            "configuration",
            _aws_error(
                "secretsmanager",
                "get_secret_value",
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
                400,
                provider_key_from_secrets_manager,
                "prod/llm/anthropic-key",
            ),
        ),
        Case(
            "wave9.settings.eval_query.chdb_setting",
            "configuration",
            _raises(run_analytics_query, "SELECT count() FROM numbers(10) SETTINGS max_threadz = 4"),
        ),
        Case(
            "wave9.settings.export_codec.arrow", "configuration", _raises(export_codec, {"export_compression": "snapy"})
        ),
        Case(
            "wave9.settings.embedding_dtype.arrow_alias",
            "configuration",
            _raises(embedding_column_type, {"embedding_dtype": "float33"}),
        ),
        Case(
            "wave9.settings.idle_timeout.timedelta",
            "configuration",
            _raises(session_idle_timeout, {"session_idle_timeout": "5 minutez"}),
        ),
        Case(
            "wave9.settings.smtp_service.services_db",
            "configuration",
            _raises(smtp_port, {"alert_smtp_service": "smtps-relay"}),
        ),
        Case(
            "wave9.settings.alert_sender.address",
            "configuration",
            _raises(alert_sender, {"alert_from": "alerts@@acme.example"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Out of memory: a query's limit, a tool's Lambda, an ECS task, a cache and an inference server


def invoke_tool_lambda(lambda_client: Any, name: str, arguments: dict[str, Any]) -> Any:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(arguments).encode())
    payload = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        raise ProviderError(f"tool lambda {name} failed ({payload['errorType']}): {payload['errorMessage']}")
    return payload


def wait_for_embedding_job(ecs: Any, task_arn: str) -> None:
    task = ecs.describe_tasks(cluster="llm-batch", tasks=[task_arn])["tasks"][0]
    container = task["containers"][0]
    if container.get("exitCode", 0) != 0:
        raise RuntimeError(
            f"embedding job {task_arn} stopped ({task['stoppedReason']}): container {container['name']} "
            f"exited {container['exitCode']}: {container['reason']}"
        )


def cache_answer(base_url: str, key: str, answer: str) -> None:
    response = requests.post(base_url + "/set/" + key, data=answer, headers={"Authorization": "Bearer AX"}, timeout=2)
    body = response.json()
    if "error" in body:
        raise ProviderError(f"upstash redis: {body['error']}")


def triton_embed(base_url: str, texts: list[str]) -> list[float]:
    response = requests.post(
        base_url + "/v2/models/bge-onnx/infer",
        json={"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}]},
        timeout=2,
    )
    body = response.json()
    if "error" in body:
        raise ProviderError(f"triton infer bge-onnx: {body['error']}")
    return list(body["outputs"][0]["data"])


def _memory_cases() -> list[Case]:
    return [
        Case(
            "wave9.eval_query.chdb.memory_limit",
            "out_of_memory",
            _raises(
                run_analytics_query,
                "SELECT groupArray(number) FROM numbers(50000000) SETTINGS max_memory_usage = 20000000",
            ),
        ),
        Case(
            "wave9.tool_lambda.runtime_out_of_memory",
            "out_of_memory",
            _aws_answer(
                "lambda",
                "invoke",
                {
                    "StatusCode": 200,
                    "FunctionError": "Unhandled",
                    "Payload": _streaming(
                        {
                            "errorType": "Runtime.OutOfMemory",
                            "errorMessage": "RequestId: 8f5e2c1a Error: Runtime exited with error: signal: killed",
                        }
                    ),
                },
                invoke_tool_lambda,
                "render-chart-tool",
                {"series": [1, 2, 3]},
            ),
        ),
        Case(
            "wave9.ecs.embedding_job.container_memory",
            "out_of_memory",
            _aws_answer(
                "ecs",
                "describe_tasks",
                {
                    "tasks": [
                        {
                            "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/llm-batch/5e1d",
                            "stoppedReason": "Essential container in task exited",
                            "containers": [
                                {
                                    "name": "embedder",
                                    "exitCode": 137,
                                    "reason": "OutOfMemoryError: Container killed due to memory usage",
                                }
                            ],
                        }
                    ],
                    "failures": [],
                },
                wait_for_embedding_job,
                "arn:aws:ecs:eu-west-1:123456789012:task/llm-batch/5e1d",
            ),
        ),
        Case(
            "wave9.upstash.semantic_cache.maxmemory",
            "out_of_memory",
            _served(
                400,
                {"error": "OOM command not allowed when used memory > 'maxmemory'."},
                cache_answer,
                "answer:7f3e",
                "The refund window is 30 days.",
            ),
        ),
        Case(
            "wave9.triton.onnx.allocate_buffer",
            "out_of_memory",
            _served(
                400,
                {
                    "error": "onnx runtime error 6: Non-zero status code returned while running MatMul node. "
                    "Name:'/encoder/layer.11/attention/self/MatMul' Status Message: Failed to allocate memory for "
                    "requested buffer of size 6442450944"
                },
                triton_embed,
                ["a long document"] * 64,
            ),
        ),
    ]


def _streaming(payload: dict[str, Any]) -> Any:
    """A Lambda ``Payload`` as botocore gives it: a readable body."""
    from botocore.response import StreamingBody

    data = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(data), len(data))


# --------------------------------------------------------------------------------------------------
# Content filter: guardrails and providers' moderation


def guarded_answer(bedrock: Any, answer: str) -> str:
    result = bedrock.apply_guardrail(
        guardrailIdentifier="gr-support", guardrailVersion="3", source="OUTPUT", content=[{"text": {"text": answer}}]
    )
    if result["action"] == "GUARDRAIL_INTERVENED":
        filters = result["assessments"][0]["contentPolicy"]["filters"]
        blocked = ", ".join(f"{item['type']} ({item['confidence']})" for item in filters if item["action"] == "BLOCKED")
        raise RuntimeError(f"guardrail gr-support intervened on the answer: {blocked}")
    return answer


def qwen_reply(base_url: str, prompt: str) -> str:
    response = requests.post(
        base_url + "/api/v1/services/aigc/text-generation/generation",
        json={"model": "qwen-max", "input": {"prompt": prompt}},
        timeout=2,
    )
    body = response.json()
    if response.status_code != 200:
        raise ProviderError(f"dashscope {body['code']}: {body['message']} (request {body['request_id']})")
    return str(body["output"]["text"])


_HAZARDS = {"S1": "violent crimes", "S2": "non-violent crimes", "S10": "hate", "S11": "suicide & self-harm"}


def screened_prompt(base_url: str, prompt: str) -> str:
    """The prompt is screened by Llama Guard (an OpenAI-compatible server) before the main model sees it."""
    response = requests.post(
        base_url + "/v1/chat/completions",
        json={"model": "llama-guard-3-8b", "messages": [{"role": "user", "content": prompt}]},
        timeout=2,
    )
    verdict = str(response.json()["choices"][0]["message"]["content"]).split()
    if verdict[0] == "unsafe":
        raise RuntimeError(f"prompt flagged unsafe by llama guard: {', '.join(_HAZARDS[code] for code in verdict[1:])}")
    return prompt


def _content_filter_cases() -> list[Case]:
    return [
        Case(
            "wave9.bedrock.apply_guardrail.intervened",
            "content_filter",
            _aws_answer(
                "bedrock-runtime",
                "apply_guardrail",
                {
                    "usage": {
                        "topicPolicyUnits": 1,
                        "contentPolicyUnits": 1,
                        "wordPolicyUnits": 0,
                        "sensitiveInformationPolicyUnits": 0,
                        "sensitiveInformationPolicyFreeUnits": 0,
                        "contextualGroundingPolicyUnits": 0,
                    },
                    "action": "GUARDRAIL_INTERVENED",
                    "outputs": [{"text": "Sorry, I can't share that."}],
                    "assessments": [
                        {
                            "contentPolicy": {
                                "filters": [{"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"}]
                            }
                        }
                    ],
                },
                guarded_answer,
                "Here is how to hurt ...",
            ),
        ),
        Case(
            "wave9.dashscope.data_inspection",
            "content_filter",
            _served(
                400,
                {
                    "code": "DataInspectionFailed",
                    "message": "Input data may contain inappropriate content.",
                    "request_id": "5b2c7d3e-0f41",
                },
                qwen_reply,
                "写一段攻击性的评论",
            ),
        ),
        Case(
            "wave9.moonshot.high_risk.content_filter",
            "content_filter",
            _compatible(
                400,
                {"message": "The request was rejected because it was considered high risk", "type": "content_filter"},
            ),
        ),
        Case(
            "wave9.stability.image.content_moderation",
            "content_filter",
            _served(
                403,
                {
                    "id": "0c1f2a77",
                    "name": "content_moderation",
                    "errors": [
                        "Your request was flagged by our content moderation system, as a result your request "
                        "was denied and you were not charged."
                    ],
                },
                stability_image,
                "a photo of a celebrity in a violent scene",
            ),
        ),
        Case(
            "wave9.llama_guard.prompt.unsafe",
            "content_filter",
            _served(
                200,
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": "unsafe\nS2"}}]},
                screened_prompt,
                "How do I get into my neighbour's wifi without the password?",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# File not found: tools, translations, shards, cached models and packaged prompts


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def reply_translations(locale_dir: Path, language: str) -> gettext.NullTranslations:
    return gettext.translation("assistant", str(locale_dir), [language])


def load_eval_shard(path: Path) -> pyarrow.Table:
    return pyarrow.parquet.read_table(path)


def offline_model_config(cache_dir: Path) -> str:
    return huggingface_hub.hf_hub_download(
        "BAAI/bge-small-en-v1.5", "config.json", local_files_only=True, cache_dir=str(cache_dir)
    )


def packaged_prompt(name: str) -> str:
    return importlib.resources.files("tests.corpus").joinpath(f"prompts/{name}.txt").read_text()


def _file_cases() -> list[Case]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        return [
            Case("wave9.files.pdftotext.not_installed", "file_not_found", _raises(pdf_text, root / "contract.pdf")),
            Case(
                "wave9.files.gettext.catalogue",
                "file_not_found",
                _raises(reply_translations, root / "locales", "de"),
            ),
            Case(
                "wave9.files.eval_shard.parquet",
                "file_not_found",
                _raises(load_eval_shard, root / "evals" / "2026-12-01.parquet"),
            ),
            Case("wave9.files.hf_cache.offline", "file_not_found", _raises(offline_model_config, root / "hf")),
            Case("wave9.files.packaged_prompt.resources", "file_not_found", _raises(packaged_prompt, "triage_system")),
        ]


# --------------------------------------------------------------------------------------------------
# Corrupted data: stored files, columns, keys and addresses that cannot be read


def read_feature_snapshot(blob: bytes) -> pyarrow.Table:
    return pyarrow.orc.read_table(pyarrow.BufferReader(blob))


def stored_scores(column: list[str]) -> pyarrow.Array:
    return pyarrow.compute.cast(pyarrow.array(column), pyarrow.float64())


def decrypt_stored_key(kms: Any, blob: bytes) -> bytes:
    return bytes(kms.decrypt(CiphertextBlob=blob)["Plaintext"])


def client_address(record: dict[str, bytes]) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(record["client_ip"])


def _corrupted_cases() -> list[Case]:
    with tempfile.TemporaryDirectory() as directory:
        shard = Path(directory) / "turns.parquet"
        shard.write_bytes(b"PAR1" + b"\x00" * 50)
        parquet = _raises(run_analytics_query, f"SELECT count() FROM file('{shard}', Parquet)")
    return [
        Case(
            "wave9.stored.feature_snapshot.orc",
            "corrupted_data",
            _raises(read_feature_snapshot, b"ORC" + b"\x01" * 40),
        ),
        Case("wave9.stored.score_column.cast", "corrupted_data", _raises(stored_scores, ["0.82", "0.5", "0.7x"])),
        Case("wave9.stored.turn_shard.chdb_parquet", "corrupted_data", parquet),
        Case(
            "wave9.stored.provider_key.kms_ciphertext",
            "corrupted_data",
            _aws_error("kms", "decrypt", "InvalidCiphertextException", "", 400, decrypt_stored_key, b"\x01\x02\x03"),
        ),
        Case(
            "wave9.stored.client_ip.bytes",
            "corrupted_data",
            _raises(client_address, {"client_ip": b"\x0a\x00\x03"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Missing data: retrieval and aggregation over nothing


def weaviate_top_document(base_url: str, question: str) -> dict[str, Any]:
    query = "{ Get { Document(nearText: {concepts: [" + json.dumps(question) + "]}, limit: 3) { title body } } }"
    body = requests.post(base_url + "/v1/graphql", json={"query": query}, timeout=2).json()
    return dict(body["data"]["Get"]["Document"][0])


def merged_shards(tables: list[pyarrow.Table]) -> pyarrow.Table:
    return pyarrow.concat_tables(tables)


def customer_plan(customers: pandas.DataFrame, customer_id: str) -> str:
    return str(customers.loc[customers["customer_id"] == customer_id, "plan"].item())


def feedback_deciles(scores: list[float]) -> list[float]:
    """Yesterday's feedback scores set today's escalation thresholds."""
    return statistics.quantiles(scores, n=10)


def _missing_cases() -> list[Case]:
    return [
        Case(
            "wave9.weaviate.near_text.no_document",
            "missing_data",
            _served(200, {"data": {"Get": {"Document": []}}}, weaviate_top_document, "refund for damaged goods"),
        ),
        Case("wave9.missing.eval_shards.concat_tables", "missing_data", _raises(merged_shards, [])),
        Case(
            "wave9.missing.customer_row.item",
            "missing_data",
            _raises(customer_plan, pandas.DataFrame({"customer_id": ["c-1", "c-2"], "plan": ["pro", "team"]}), "c-9"),
        ),
        Case("wave9.missing.feedback_scores.quantiles", "missing_data", _raises(feedback_deciles, [])),
    ]


# --------------------------------------------------------------------------------------------------
# One case for each other label


def search_knowledge_base(base_url: str, question: str) -> list[dict[str, Any]]:
    response = requests.post(
        base_url + "/kb/_search", json={"size": 3, "query": {"match": {"body": question}}}, timeout=2
    )
    return list(_checked(response, "elasticsearch")["hits"]["hits"])


def invoke_tool(lambda_client: Any, name: str) -> Any:
    return lambda_client.invoke(FunctionName=name, Payload=b"{}")


def caller_identity(sts: Any) -> str:
    return str(sts.get_caller_identity()["Arn"])


def sandbox_client(base_url: str) -> Any:
    return docker.DockerClient(base_url=base_url, timeout=0.2)


def detect_language(comprehend: Any, text: str) -> str:
    return str(comprehend.detect_dominant_language(Text=text)["Languages"][0]["LanguageCode"])


def ollama_generate(base_url: str, prompt: str) -> str:
    body = requests.post(
        base_url + "/api/generate",
        json={"model": "llama3.1:8b", "prompt": prompt, "stream": False, "options": {"num_predict": 256}},
        timeout=2,
    ).json()
    if body["done_reason"] != "stop":
        raise RuntimeError(
            f"ollama generation ended with done_reason={body['done_reason']} after {body['eval_count']} tokens"
        )
    return str(body["response"])


class RefusalError(RuntimeError):
    """App-level: the model declined what it was asked."""


def ollama_chat_answer(base_url: str, question: str) -> str:
    body = requests.post(
        base_url + "/api/chat",
        json={"model": "llama3.1:8b", "messages": [{"role": "user", "content": question}], "stream": False},
        timeout=2,
    ).json()
    text = str(body["message"]["content"])
    if text.startswith(("I cannot provide", "I can't provide")):
        raise RefusalError(f"model declined: {text}")
    return text


def reply_table(reply: str) -> pandas.DataFrame:
    return pandas.read_json(io.StringIO(reply), orient="records")


class Refund(pydantic.BaseModel):
    type: Literal["refund"]
    amount: float


class Exchange(pydantic.BaseModel):
    type: Literal["exchange"]
    sku: str


class Resolution(pydantic.BaseModel):
    resolution: Refund | Exchange = pydantic.Field(discriminator="type")


def parse_resolution(reply: str) -> Resolution:
    return Resolution.model_validate_json(reply)


def parse_react_action(completion: str) -> tuple[str, dict[str, Any]]:
    """A ReAct loop: the model names a tool on ``Action:`` and gives its JSON arguments on ``Action Input:``."""
    lines = dict(line.split(": ", 1) for line in completion.strip().splitlines() if ": " in line)
    return lines["Action"], json.loads(lines["Action Input"])


def cancelled_tool_future() -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        blocker = pool.submit(asyncio.run, asyncio.sleep(0.2))
        search = pool.submit(str, "web search")
        search.cancel()  # the user stopped the run while the search was queued
        blocker.result()
        return search.result()


def _other_cases() -> list[Case]:
    with _stalled_server() as url:
        stalled = _raises(sandbox_client, url.replace("http://", "tcp://"))
    return [
        Case("wave9.sandbox.docker.stalled", "timeout", stalled),
        Case(
            "wave9.tool_lambda.throttled",
            "rate_limit",
            _aws_error("lambda", "invoke", "TooManyRequestsException", "Rate Exceeded.", 429, invoke_tool, "search"),
        ),
        Case(
            "wave9.sts.token.expired",
            "auth",
            _aws_error(
                "sts",
                "get_caller_identity",
                "ExpiredToken",
                "The security token included in the request is expired",
                403,
                caller_identity,
            ),
        ),
        Case(
            "wave9.sandbox.docker.no_socket",
            "connection",
            _raises(sandbox_client, f"unix://{tempfile.gettempdir()}/no-such-dir/docker.sock"),
        ),
        Case(
            "wave9.sambanova.model.at_capacity",
            "overloaded",
            _compatible(503, {"message": "Model is at capacity, please try again later.", "type": "overloaded"}),
        ),
        Case(
            "wave9.elasticsearch.search.all_shards_failed",
            "server_error",
            _served(
                500,
                {
                    "error": {
                        "root_cause": [{"type": "null_pointer_exception", "reason": None}],
                        "type": "search_phase_execution_exception",
                        "reason": "all shards failed",
                        "phase": "query",
                    },
                    "status": 500,
                },
                search_knowledge_base,
                "refund window",
            ),
        ),
        Case(
            "wave9.tool_lambda.function_not_found",
            "not_found",
            _aws_error(
                "lambda",
                "invoke",
                "ResourceNotFoundException",
                "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:lookup-order",
                404,
                invoke_tool,
                "lookup-order",
            ),
        ),
        Case(
            "wave9.comprehend.text_size",
            "bad_request",
            _aws_error(
                "comprehend",
                "detect_dominant_language",
                "TextSizeLimitExceededException",
                "Input text size exceeds limit. Max length of request text allowed is 100000 bytes while in this "
                "request the text size is 131072 bytes",
                400,
                detect_language,
                "x" * 10,
            ),
        ),
        Case(
            "wave9.lmstudio.context.overflow",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "Trying to keep the first 5123 tokens when context the overflows. However, the model "
                    "is loaded with context length of only 4096 tokens, which is not enough.",
                    "type": "invalid_request_error",
                },
            ),
        ),
        Case(
            "wave9.ollama.generate.done_reason_length",
            "truncation",
            _served(
                200,
                {
                    "model": "llama3.1:8b",
                    "response": "The three main risks are: 1.",
                    "done": True,
                    "done_reason": "length",
                    "eval_count": 256,
                },
                ollama_generate,
                "List the contract's risks.",
            ),
        ),
        Case(
            "wave9.ollama.chat.cannot_provide",
            "refusal",
            _served(
                200,
                {
                    "message": {"role": "assistant", "content": "I cannot provide instructions for picking a lock."},
                    "done": True,
                    "done_reason": "stop",
                },
                ollama_chat_answer,
                "How do I open my neighbour's door lock?",
            ),
        ),
        Case("wave9.reply.table.read_json", "invalid_json", _raises(reply_table, "[{'sku': 'A1', 'qty': 2}]")),
        Case(
            "wave9.reply.resolution.discriminator",
            "schema_mismatch",
            _raises(parse_resolution, '{"resolution": {"type": "refund_request", "amount": 12.5}}'),
        ),
        Case(
            "wave9.react.action_input.not_json",
            "tool_call_malformed",
            _raises(parse_react_action, "Thought: I should search.\nAction: search_web\nAction Input: query=refunds"),
        ),
        Case("wave9.agent.queued_search.cancelled", "cancelled", _raises(cancelled_tool_future)),
    ]


def build_wave9_first_batch() -> list[Case]:
    return [
        *_quota_cases(),
        *_settings_cases(),
        *_memory_cases(),
        *_content_filter_cases(),
        *_file_cases(),
        *_corrupted_cases(),
        *_missing_cases(),
        *_other_cases(),
    ]


def build_wave9_cases() -> list[Case]:
    return [*build_wave9_first_batch()]
