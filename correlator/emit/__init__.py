"""What an LLM application imports so its failures reach correlator ready to join.

from correlator import emit

emit.configure("kafka:9092", service="support-bot")
log = structlog.get_logger()
with emit.trace_run("answer-ticket"), emit.span("draft"):
    with emit.llm_call(model="gpt-4o", provider="openai") as call:
        call.observe(client.chat.completions.create(model="gpt-4o", messages=messages))
"""

from correlator.emit.calls import LLMCall, llm_call, observed_llm_call
from correlator.emit.content import CallContent
from correlator.emit.errors import LLMChatError, new_error_id
from correlator.emit.scores import score
from correlator.emit.setup import Emitter, configure, current_emitter
from correlator.emit.tracing import current_trace, span, trace_run
from correlator.emit.usage import record_usage_metric

__all__ = [
    "CallContent",
    "Emitter",
    "LLMCall",
    "LLMChatError",
    "configure",
    "current_emitter",
    "current_trace",
    "llm_call",
    "new_error_id",
    "observed_llm_call",
    "record_usage_metric",
    "score",
    "span",
    "trace_run",
]
