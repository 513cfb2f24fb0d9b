"""Development-only cases for the provider and platform families of rules 2026.12.03-11 (issue 19, twelfth session,
helper rulesprov12).

Written by the rule writer, not by a corpus wave: each case illustrates a family broadened from the providers' and
platforms' own wording (their documented error catalogues, the SDKs' error classes and status maps, LiteLLM's
``exception_mapping_utils``) for the provider-side labels weakest in the sealed part's aggregate figures, so every
scenario is recorded in the development part of ``broad_split.json`` by hand, never by
:func:`tests.corpus.broad.assign`. None comes from a sealed case or a public issue thread. Real raises through the
SDKs against mocked transports (the OpenAI SDK against OpenAI-compatible servers' bodies, anthropic, google-genai,
mistralai, botocore's Stubber, LiteLLM's own mapping), else an application's own check of a reply or of a
platform's report in that platform's words (Kubernetes, a model server's start-up, a moderation model's verdict).

The application functions' names say nothing of the label: the provider's wording, its status or its type is the
evidence, and where the SDK's type would say otherwise (a 403 that is a moderation flag, a 400 that is a missing
model, a 500 that is a refused connection) the wording decides.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.corpus.sdk_errors import (
    _USER_MSG,
    Case,
    _anthropic_status,
    _Bedrock,
    _gemini_status,
    _json_handler,
    _mistral_client,
    _openai_client,
    _openai_status,
    _raises,
)
from tests.corpus.wave6 import _compatible
from tests.corpus.wave10_families import ReplyError, _family_text, check_reply
from tests.corpus.wave11 import _litellm_mapped


def build_wave12_provider_cases() -> list[Case]:
    bedrock = _Bedrock()
    return [
        *_content_filter_cases(),
        *_truncation_cases(),
        *_context_cases(bedrock),
        *_memory_cases(),
        *_rate_limit_cases(bedrock),
        *_auth_cases(bedrock),
        *_not_found_cases(bedrock),
        *_bad_request_cases(bedrock),
        *_transport_cases(),
        *_wording_cases(),
    ]


# --------------------------------------------------------------------------------------------------
# content filter: a moderation system's flag, in the gateway's, the classifier's or the provider's words
# --------------------------------------------------------------------------------------------------


def screen_message(text: str) -> None:
    """The app sends each user message to OpenAI's moderation endpoint before the chat model sees it."""
    result = {
        "id": "modr-9f2",
        "model": "omni-moderation-latest",
        "results": [{"flagged": True, "categories": {"harassment": True}, "category_scores": {"harassment": 0.97}}],
    }
    reply = _openai_client(_json_handler(200, result)).moderations.create(input=text)
    flagged = [name for name, hit in reply.results[0].categories.to_dict().items() if hit]
    if reply.results[0].flagged:
        raise ReplyError(f"moderation endpoint flagged the message (categories: {', '.join(flagged)})")


def screen_with_guard(verdict: str) -> None:
    """A Llama Guard deployment answers ``safe`` or ``unsafe`` and the hazard categories on the next line."""
    first, _, categories = verdict.partition("\n")
    if first.strip() == "unsafe":
        raise ReplyError(f"prompt flagged by Llama Guard: {categories.strip()}")


def check_draft(score: float) -> str:
    if score > 0.5:
        raise ReplyError(f"draft reply blocked by the safety classifier (score {score:.2f}); nothing was sent")
    return "sent"


def check_safety_ratings(ratings: list[dict[str, Any]]) -> None:
    """The app keeps a Gemini candidate only if none of its safety ratings blocked it."""
    if any(rating.get("blocked") for rating in ratings):
        raise ReplyError(f"candidate dropped: safety_ratings={ratings}")


def _content_filter_cases() -> list[Case]:
    flagged = 'Your chosen model requires moderation and your input was flagged for "violence/graphic"'
    return [
        Case(
            "wave12.providers.content_filter.openrouter_flagged",
            "content_filter",
            _compatible(
                403,
                {
                    "message": flagged,
                    "code": 403,
                    "metadata": {"reasons": ["violence/graphic"], "provider_name": "OpenAI", "model_slug": "gpt-4o"},
                },
            ),
        ),
        Case(
            "wave12.providers.content_filter.cohere_toxic",
            "content_filter",
            _raises(check_reply, {"finish_reason": "ERROR_TOXIC", "text": ""}),
        ),
        Case(
            "wave12.providers.content_filter.azure_image_task",
            "content_filter",
            _openai_status(
                400,
                {"error": {"code": "contentFilter", "message": "Your task failed as a result of our safety system."}},
                azure=True,
            ),
        ),
        Case(
            "wave12.providers.content_filter.azure_invalid_content",
            "content_filter",
            _openai_status(
                500,
                {
                    "error": {
                        "message": "The model produced invalid content. Consider modifying your prompt if you are "
                        "seeing this error persistently.",
                        "type": "model_error",
                        "param": None,
                        "code": None,
                    }
                },
                azure=True,
            ),
        ),
        Case("wave12.providers.content_filter.moderation", "content_filter", _raises(screen_message, "you idiot")),
        Case("wave12.providers.content_filter.llama_guard", "content_filter", _raises(screen_with_guard, "unsafe\nS2")),
        Case("wave12.providers.content_filter.classifier", "content_filter", _raises(check_draft, 0.91)),
        Case(
            "wave12.providers.content_filter.safety_ratings",
            "content_filter",
            _raises(
                check_safety_ratings,
                [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}],
            ),
        ),
        Case(
            "wave12.providers.content_filter.guardrails_pii",
            "content_filter",
            _family_text("support reply withheld: input rejected by guardrails: PII detected (EMAIL_ADDRESS)"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# truncation: a reply stopped by its length, in Mistral's and a local server's words
# --------------------------------------------------------------------------------------------------


def summarise_with_mistral() -> str:
    completion = {
        "id": "cmpl-e5cc70bb",
        "object": "chat.completion",
        "model": "mistral-large-latest",
        "created": 1733000000,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "The report covers"},
                "finish_reason": "model_length",
            }
        ],
        "usage": {"prompt_tokens": 32000, "completion_tokens": 768, "total_tokens": 32768},
    }
    client = _mistral_client(_json_handler(200, completion))
    reply = client.chat.complete(model="mistral-large-latest", messages=_USER_MSG)
    choice = reply.choices[0]
    if choice.finish_reason != "stop":
        raise ReplyError(f"summary not finished: finish_reason={choice.finish_reason}")
    return str(choice.message.content)


def check_local_completion(body: dict[str, Any]) -> str:
    """A llama.cpp server's /completion answer: ``stop_type`` says why it stopped."""
    if body.get("stop_type") == "limit":
        raise ReplyError(f"completion ended: the model reached the maximum number of tokens ({body['n_predict']})")
    return str(body["content"])


def _truncation_cases() -> list[Case]:
    return [
        Case("wave12.providers.truncation.mistral_model_length", "truncation", _raises(summarise_with_mistral)),
        Case(
            "wave12.providers.truncation.completion_tokens",
            "truncation",
            _family_text("streamed answer unusable: max_completion_tokens reached before the closing brace"),
        ),
        Case(
            "wave12.providers.truncation.cut_short",
            "truncation",
            _family_text("translation rejected: the reply was cut short at 4096 tokens"),
        ),
        Case(
            "wave12.providers.truncation.llama_cpp_limit",
            "truncation",
            _raises(check_local_completion, {"stop_type": "limit", "n_predict": 512, "content": "1. Open the"}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# context length: vLLM's, TGI's, Cerebras' and Bedrock's wording for a prompt the model cannot take
# --------------------------------------------------------------------------------------------------


def generate_with_tgi(prompt: str) -> str:
    """A text-generation-inference server's native ``/generate``: its error body is ``error`` and ``error_type``."""
    body = {"error": "Input validation error: `inputs` must have less than 4000 tokens. Given: 4518",
            "error_type": "validation"}  # fmt: skip
    client = httpx.Client(transport=httpx.MockTransport(_json_handler(422, body)), base_url="http://tgi:8080")
    response = client.post("/generate", json={"inputs": prompt, "parameters": {"max_new_tokens": 256}})
    if response.is_error:
        error = response.json()
        raise ReplyError(f"generation refused ({error['error_type']}): {error['error']}")
    return str(response.json()["generated_text"])


def _context_cases(bedrock: _Bedrock) -> list[Case]:
    return [
        Case(
            "wave12.providers.context.vllm_decoder_prompt",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "The decoder prompt (length 5120) is longer than the maximum model length of 4096. "
                    "Make sure that `max_model_len` is no smaller than the number of text tokens.",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                },
            ),
        ),
        Case(
            "wave12.providers.context.tgi_inputs",
            "context_length_exceeded",
            _raises(generate_with_tgi, "Summarise the attached quarterly report. " * 600),
        ),
        Case(
            "wave12.providers.context.cerebras_length",
            "context_length_exceeded",
            _compatible(
                400,
                {
                    "message": "Please reduce the length of the messages or completion. Current length is 9210 while "
                    "limit is 8192",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": None,
                },
            ),
        ),
        Case(
            "wave12.providers.context.titan_input",
            "context_length_exceeded",
            bedrock.error("ValidationException", "Input too long: 9210 input tokens, limit is 8192", 400),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# out of memory: a model server's KV cache at start-up, a node's memory pressure, Windows' paging file
# --------------------------------------------------------------------------------------------------


class EngineStartError(RuntimeError):
    """App-level: the inference engine the worker embeds refused to start."""


def start_engine(max_model_len: int, kv_cache_tokens: int) -> None:
    """The worker checks its engine's report before it takes traffic, in the engine's own words (vLLM's)."""
    if max_model_len > kv_cache_tokens:
        raise ValueError(
            f"The model's max seq len ({max_model_len}) is larger than the maximum number of tokens that can be "
            f"stored in KV cache ({kv_cache_tokens}). Try increasing `gpu_memory_utilization` or decreasing "
            "`max_model_len` when initializing the engine."
        )


def pod_status(status: dict[str, Any]) -> None:
    """The batch runner reads its worker pod's status from the Kubernetes API after the pod went away."""
    if status.get("phase") == "Failed":
        raise EngineStartError(f"worker pod {status['reason']}: {status['message']}")


def reserve_gpu(free_gib: float, needed_gib: float) -> None:
    """The worker checks ``torch.cuda.mem_get_info()`` before it loads the reranker."""
    if free_gib < needed_gib:
        raise EngineStartError(
            f"not enough GPU memory to load the reranker: {free_gib:.1f} GiB free, {needed_gib} needed"
        )


def _memory_cases() -> list[Case]:
    evicted = {
        "phase": "Failed",
        "reason": "Evicted",
        "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 81Mi. Container "
        "worker was using 6Gi, which exceeds its request of 4Gi.",
    }
    pressure = {"phase": "Failed", "reason": "Evicted", "message": "The node had condition: [MemoryPressure]."}
    return [
        Case("wave12.providers.memory.kv_cache", "out_of_memory", _raises(start_engine, 32768, 20480)),
        Case("wave12.providers.memory.evicted", "out_of_memory", _raises(pod_status, evicted)),
        Case("wave12.providers.memory.pressure", "out_of_memory", _raises(pod_status, pressure)),
        Case("wave12.providers.memory.gpu_free", "out_of_memory", _raises(reserve_gpu, 3.2, 7.5)),
        Case(
            "wave12.providers.memory.yarn_container",
            "out_of_memory",
            _family_text("embedding backfill stage 3 lost: Container killed on request. Exit code is 137"),
        ),
        Case(
            "wave12.providers.memory.paging_file",
            "out_of_memory",
            _family_text(
                "loading the embedding model failed: [WinError 1455] The paging file is too small for this operation "
                "to complete"
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# rate limit: throttling in Bedrock's, Gemini's and Cohere's words, a gateway's concurrency limit
# --------------------------------------------------------------------------------------------------


def _rate_limit_cases(bedrock: _Bedrock) -> list[Case]:
    return [
        Case(
            "wave12.providers.rate_limit.bedrock_tokens",
            "rate_limit",
            bedrock.error("ThrottlingException", "Too many tokens, please wait before trying again.", 429),
        ),
        Case(
            "wave12.providers.rate_limit.gemini_exhausted",
            "rate_limit",
            _gemini_status(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        ),
        Case(
            "wave12.providers.rate_limit.cohere_trial_minute",
            "rate_limit",
            _compatible(
                429,
                {
                    "message": "You are using a Trial key, which is limited to 20 API calls / minute. You can "
                    "continue to use the Trial key for free or upgrade to a Production key with higher rate limits"
                },
            ),
        ),
        Case(
            "wave12.providers.rate_limit.throttled",
            "rate_limit",
            _family_text("embedding batch 14 not sent: request was throttled. Expected available in 3 seconds."),
        ),
        Case(
            "wave12.providers.rate_limit.concurrency",
            "rate_limit",
            _compatible(
                429,
                {"message": "Concurrency limit exceeded: 10 concurrent requests for this API key", "code": 429},
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# auth: credentials refused or not permitted, in the providers' and clouds' own words
# --------------------------------------------------------------------------------------------------


def refresh_google_credentials(body: dict[str, Any]) -> None:
    """The app exchanges its refresh token with Google's token endpoint before calling Vertex AI."""
    client = httpx.Client(transport=httpx.MockTransport(_json_handler(400, body)))
    response = client.post("https://oauth2.googleapis.com/token", data={"grant_type": "refresh_token"})
    if response.status_code != 200:
        error = response.json()
        raise ReplyError(f"{error['error']}: {error['error_description']}")


def _auth_cases(bedrock: _Bedrock) -> list[Case]:
    return [
        Case(
            "wave12.providers.auth.deepseek_key",
            "auth",
            _family_text("DeepSeek call rejected: Authentication Fails, Your api key: ****a1f3 is invalid"),
        ),
        Case(
            "wave12.providers.auth.fireworks_key",
            "auth",
            _compatible(401, {"message": "The API key you provided is invalid.", "code": 401}),
        ),
        Case(
            "wave12.providers.auth.s3_signature",
            "auth",
            _family_text(
                "transcript archive refused by S3: SignatureDoesNotMatch: The request signature we calculated does "
                "not match the signature you provided. Check your key and signing method."
            ),
        ),
        Case(
            "wave12.providers.auth.google_grant",
            "auth",
            _raises(
                refresh_google_credentials,
                {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
            ),
        ),
        Case(
            "wave12.providers.auth.bedrock_not_authorized",
            "auth",
            _family_text(
                "User: arn:aws:sts::123456789012:assumed-role/rag-worker/i-0abc is not authorized to perform: "
                "bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-v2"
            ),
        ),
        Case(
            "wave12.providers.auth.gemini_caller",
            "auth",
            _gemini_status(403, "PERMISSION_DENIED", "The caller does not have permission"),
        ),
        Case(
            "wave12.providers.auth.anthropic_permission",
            "auth",
            _anthropic_status(
                403, "permission_error", "Your API key does not have permission to use the specified resource."
            ),
        ),
        Case(
            "wave12.providers.auth.openai_region",
            "auth",
            _compatible(
                403,
                {
                    "message": "Country, region, or territory not supported",
                    "type": "request_forbidden",
                    "code": "unsupported_country_region_territory",
                },
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# not found: a model or deployment that does not exist, where the status alone says a bad request
# --------------------------------------------------------------------------------------------------


def _not_found_cases(bedrock: _Bedrock) -> list[Case]:
    return [
        Case(
            "wave12.providers.not_found.gemini_api_version",
            "not_found",
            _gemini_status(
                400,
                "INVALID_ARGUMENT",
                "models/gemini-1.0-pro-vision is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their supported methods.",
            ),
        ),
        Case(
            "wave12.providers.not_found.bedrock_foundation",
            "not_found",
            bedrock.error(
                "ValidationException", "Could not resolve the foundation model from the provided model identifier.", 400
            ),
        ),
        Case(
            "wave12.providers.not_found.together_model",
            "not_found",
            _compatible(
                400,
                {
                    "message": "Unable to access model meta-llama/Llama-3-70b-chat. Please visit "
                    "https://api.together.ai/models to view the list of supported models.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_available",
                },
            ),
        ),
        Case(
            "wave12.providers.not_found.openrouter_model_id",
            "not_found",
            _compatible(400, {"message": "openai/gpt-4o-mini-2025 is not a valid model ID", "code": 400}),
        ),
        Case(
            "wave12.providers.not_found.xai_team",
            "not_found",
            _compatible(
                400,
                {
                    "message": "The model grok-5-mini does not exist or your team t-91c2 does not have access to it.",
                    "code": "Some requested entity was not found",
                },
            ),
        ),
        Case(
            "wave12.providers.not_found.azure_deployment",
            "not_found",
            _litellm_mapped(
                "azure",
                "azure/gpt-4o-prod",
                400,
                "The API deployment for this resource does not exist. If you created the deployment within the last 5 "
                "minutes, please wait a moment and try again.",
                "https://contoso-eastus.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# bad request: a provider's own wording for a malformed request, where no status text remains
# --------------------------------------------------------------------------------------------------


def _bad_request_cases(bedrock: _Bedrock) -> list[Case]:
    return [
        Case(
            "wave12.providers.bad_request.openai_unsupported",
            "bad_request",
            _family_text(
                "chat step rejected: Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead."
            ),
        ),
        Case(
            "wave12.providers.bad_request.anthropic_alternate",
            "bad_request",
            _family_text(
                'replay of the transcript refused: messages: roles must alternate between "user" and "assistant", '
                'but found multiple "user" roles in a row'
            ),
        ),
        Case(
            "wave12.providers.bad_request.bedrock_malformed",
            "bad_request",
            bedrock.error(
                "ValidationException",
                "Malformed input request: #: extraneous key [top_k] is not permitted, please reformat your input and "
                "try again.",
                400,
            ),
        ),
        Case(
            "wave12.providers.bad_request.payload_size",
            "bad_request",
            _family_text("attachment upload refused: Request payload size exceeds the limit: 20971520 bytes."),
        ),
        Case("wave12.providers.bad_request.conflict", "bad_request", _compatible(409, {"message": "Conflict"})),
    ]


# --------------------------------------------------------------------------------------------------
# transport: a proxy's, a model server's or Node's own wording for a fault on the way
# --------------------------------------------------------------------------------------------------


def _transport_cases() -> list[Case]:
    return [
        Case(
            "wave12.providers.transport.ollama_refused",
            "connection",
            _litellm_mapped(
                "ollama",
                "ollama/qwen2.5:14b",
                500,
                "HTTPConnectionPool(host='ollama', port=11434): Max retries exceeded with url: /api/chat (Caused by "
                "NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish a new "
                "connection: [Errno 111] Connection refused'))",
                "http://ollama:11434/api/chat",
            ),
        ),
        Case(
            "wave12.providers.transport.node_gateway",
            "connection",
            _family_text("tool server unreachable: getaddrinfo ENOTFOUND tools.internal.example"),
        ),
        Case(
            "wave12.providers.transport.gemini_internal",
            "server_error",
            _family_text(
                "Gemini answer missing: An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting"
            ),
        ),
        Case(
            "wave12.providers.transport.vllm_engine_dead",
            "server_error",
            _family_text("generation aborted: Background loop has errored already."),
        ),
        Case(
            "wave12.providers.transport.envoy_no_upstream",
            "server_error",
            _family_text("rerank call failed: no healthy upstream"),
        ),
        Case(
            "wave12.providers.transport.vertex_capacity",
            "overloaded",
            _gemini_status(
                429,
                "RESOURCE_EXHAUSTED",
                "Unable to submit request because the service is temporarily out of capacity. Try again later.",
            ),
        ),
        Case(
            "wave12.providers.transport.grpc_deadline",
            "timeout",
            _family_text("ranking service: Deadline expired before operation could complete."),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# documented wording an application passes on in its own exception: no status and no SDK type remain
# --------------------------------------------------------------------------------------------------


def _wording_cases() -> list[Case]:
    return [
        Case(
            "wave12.providers.wording.upstream_invalid",
            "server_error",
            _family_text("search step failed: The server received an invalid response from an upstream server."),
        ),
        Case(
            "wave12.providers.wording.deprecated_model",
            "not_found",
            _family_text(
                "nightly eval skipped: The model `text-davinci-003` has been deprecated, learn more here: "
                "https://platform.openai.com/docs/deprecations"
            ),
        ),
        Case(
            "wave12.providers.wording.deployment",
            "not_found",
            _family_text("router has no target: deployment 'gpt-4o-eu' not found in the model list"),
        ),
        Case(
            "wave12.providers.wording.balance",
            "quota_exceeded",
            _family_text("Moonshot call refused: insufficient account balance, please recharge"),
        ),
        Case(
            "wave12.providers.wording.qps",
            "rate_limit",
            _family_text("ERNIE call refused: qps limit reached (error_code 18)"),
        ),
        Case(
            "wave12.providers.wording.access_token",
            "auth",
            _family_text("Vertex call refused: the access token is invalid or has expired"),
        ),
        Case(
            "wave12.providers.wording.scope",
            "auth",
            _family_text(
                "drive export refused: insufficient_scope: the token lacks https://www.googleapis.com/auth/drive"
            ),
        ),
        Case(
            "wave12.providers.wording.timed_out",
            "timeout",
            _family_text("rerank request timed-out after 30000 ms"),
        ),
    ]
