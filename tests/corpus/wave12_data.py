"""Development-only cases for the data and configuration families of rules 2026.12.03-11 (issue 19, twelfth
session, helper rulesdata12).

Written by the rule writer, not by a corpus wave: each case illustrates a family read from a library's own raise
sites (configparser, ipaddress, logging.config, zlib, zoneinfo, sqlite3, statistics, struct, base64, numpy, pandas,
pyarrow, jsonschema, requests, aiohttp, clickhouse-connect, langchain-core, openai, anthropic, tokenizers) for the
labels weakest in the sealed part's aggregate figures (configuration, schema mismatch, missing and corrupted data), so
every scenario is recorded in the development part of ``broad_split.json`` by hand, never by
:func:`tests.corpus.broad.assign`. None comes from a sealed case or a public issue thread. Every case is a real raise
through the library, in application code whose function names say nothing of the label: the library's wording or
its type is the evidence.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import io
import ipaddress
import logging.config
import sqlite3
import statistics
import struct
import zlib
import zoneinfo
from typing import Any

import aiohttp
import anthropic
import clickhouse_connect
import jsonschema
import numpy
import openai
import pandas
import pyarrow
import requests
import tokenizers
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate

from tests.corpus.sdk_errors import Case, _raises
from tests.corpus.wave4 import _ini


def build_wave12_data_cases() -> list[Case]:
    return [*_settings_cases(), *_client_settings_cases(), *_shape_cases(), *_absent_cases(), *_stored_cases()]


# --------------------------------------------------------------------------------------------------
# configuration: a setting the standard library rejects at start-up, in its own words
# --------------------------------------------------------------------------------------------------


def streaming_enabled(text: str) -> bool:
    return _ini(text).getboolean("llm", "stream")


def allowed_callers(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr)


def bind_address(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(text)


def install_logging(spec: dict[str, Any]) -> None:
    logging.config.dictConfig(spec)


def compressor(level: int) -> Any:
    return zlib.compressobj(level=level)


def report_zone(key: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(key)


def open_ledger(isolation: str) -> sqlite3.Connection:
    return sqlite3.connect(":memory:", isolation_level=isolation)


def numeric_warnings(mode: str) -> None:
    numpy.seterr(all=mode)


def export_engine(engine: str) -> Any:
    return pandas.read_csv(io.StringIO("id\n1\n"), engine=engine)


def _settings_cases() -> list[Case]:
    return [
        Case(
            "wave12.data.settings.ini_parsing",
            "configuration",
            _raises(_ini, "[llm]\nmodel = gpt-4o\n  = 0.2\nretries\n"),
        ),
        Case(
            "wave12.data.settings.ini_boolean", "configuration", _raises(streaming_enabled, "[llm]\nstream = maybe\n")
        ),
        Case("wave12.data.settings.host_bits", "configuration", _raises(allowed_callers, "10.20.0.7/16")),
        Case("wave12.data.settings.octets", "configuration", _raises(bind_address, "10.0.7")),
        Case("wave12.data.settings.logging_version", "configuration", _raises(install_logging, {"root": {}})),
        Case("wave12.data.settings.zlib_level", "configuration", _raises(compressor, 11)),
        Case("wave12.data.settings.zone_path", "configuration", _raises(report_zone, "../../etc/localtime")),
        Case("wave12.data.settings.isolation", "configuration", _raises(open_ledger, "SERIAL")),
        Case("wave12.data.settings.numpy_mode", "configuration", _raises(numeric_warnings, "loud")),
        Case("wave12.data.settings.pandas_engine", "configuration", _raises(export_engine, "turbo")),
    ]


# --------------------------------------------------------------------------------------------------
# configuration: an HTTP, database or prompt client set up wrongly, in the client library's words
# --------------------------------------------------------------------------------------------------


def fetch_with_timeout(timeout: Any) -> Any:
    return requests.get("http://127.0.0.1:9/health", timeout=timeout)


def fetch_through_proxy(proxy: str) -> Any:
    return requests.get("http://127.0.0.1:9/health", proxies={"http": proxy})


def fetch_with_certificate(path: str) -> Any:
    return requests.get("https://127.0.0.1:9/health", cert=path)


async def _joined(base_url: str, path: str) -> str:
    async with aiohttp.ClientSession(base_url=base_url) as session, session.get(path) as response:
        return await response.text()


def joined_request(base_url: str) -> str:
    return asyncio.run(_joined(base_url, "health"))


def analytics_client(**options: Any) -> Any:
    return clickhouse_connect.get_client(host="127.0.0.1", **options)


def reply_schema_check(schema: dict[str, Any]) -> None:
    jsonschema.validate({"answer": 42}, schema)


def system_prompt(role: str) -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([(role, "You answer billing questions.")])


def templated_prompt(template_format: Any) -> PromptTemplate:
    return PromptTemplate(template="{question}", input_variables=["question"], template_format=template_format)


def azure_client(**options: Any) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(api_key="sk-test", api_version="2024-10-21", **options)


def tenant_client(headers: dict[str, str]) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-test").with_options(default_headers=headers, set_default_headers=headers)


def chunked_import(text: str) -> Any:
    return pandas.read_csv(io.BytesIO(text.encode()), engine="pyarrow", chunksize=100)


def _client_settings_cases() -> list[Case]:
    return [
        Case("wave12.data.clients.requests_timeout", "configuration", _raises(fetch_with_timeout, (3, 10, 30))),
        Case("wave12.data.clients.proxy_url", "configuration", _raises(fetch_through_proxy, "http://")),
        Case(
            "wave12.data.clients.client_cert",
            "configuration",
            _raises(fetch_with_certificate, "/srv/app/certs/absent-client.pem"),
        ),
        Case("wave12.data.clients.aiohttp_base", "configuration", _raises(joined_request, "http://127.0.0.1:9/v1")),
        Case("wave12.data.clients.clickhouse_port", "configuration", _raises(analytics_client, port="eighty")),
        Case(
            "wave12.data.clients.jsonschema_type",
            "configuration",
            _raises(reply_schema_check, {"type": "object", "properties": {"answer": {"type": "integr"}}}),
        ),
        Case("wave12.data.clients.prompt_role", "configuration", _raises(system_prompt, "narrator")),
        Case("wave12.data.clients.template_format", "configuration", _raises(templated_prompt, "handlebars")),
        Case(
            "wave12.data.clients.azure_endpoints",
            "configuration",
            _raises(azure_client, base_url="https://a.example.com/v1", azure_endpoint="https://b.openai.azure.com"),
        ),
        Case("wave12.data.clients.anthropic_headers", "configuration", _raises(tenant_client, {"X-Tenant": "acme"})),
        Case("wave12.data.clients.pandas_chunks", "configuration", _raises(chunked_import, "id,total\n1,9.5\n")),
    ]


# --------------------------------------------------------------------------------------------------
# schema mismatch: a model's or a service's data of the wrong shape, in pyarrow's, pandas' and numpy's words
# --------------------------------------------------------------------------------------------------


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


def ticket_priority(value: str) -> Priority:
    return Priority(value)


def append_batches(rows: list[dict[str, Any]], more: list[dict[str, Any]]) -> Any:
    return pyarrow.concat_tables([pyarrow.Table.from_pylist(rows), pyarrow.Table.from_pylist(more)])


def typed_rows(rows: list[dict[str, Any]]) -> Any:
    return pyarrow.Table.from_pylist(rows, schema=pyarrow.schema([("sku", pyarrow.string()), ("qty", pyarrow.int64())]))


def order_column(rows: list[dict[str, Any]], name: str) -> Any:
    return pyarrow.Table.from_pylist(rows).column(name)


def label_columns(rows: list[list[Any]], names: list[str]) -> Any:
    return pandas.DataFrame(rows).set_axis(names, axis=1)


def join_orders(left: dict[str, list[Any]], right: dict[str, list[Any]]) -> Any:
    return pandas.DataFrame(left).merge(pandas.DataFrame(right), on="order_id")


def quantities(values: list[str]) -> Any:
    return pandas.to_numeric(pandas.Series(values))


def score_matrix(rows: list[list[float]]) -> Any:
    return numpy.array(rows, dtype=float)


def weighted(scores: list[float], weights: list[float]) -> Any:
    return numpy.asarray(scores) * numpy.asarray(weights)


def attach_payments(orders: dict[str, list[Any]], payments: dict[str, list[Any]]) -> Any:
    return pandas.DataFrame(orders).merge(pandas.DataFrame(payments), on="order_id", validate="one_to_one")


def line_total(item: Any) -> Any:
    return item["price"] * item["qty"]


def _shape_cases() -> list[Case]:
    return [
        Case("wave12.data.shapes.enum_value", "schema_mismatch", _raises(ticket_priority, "urgent")),
        Case(
            "wave12.data.shapes.arrow_schemas",
            "schema_mismatch",
            _raises(append_batches, [{"sku": "A-1", "qty": 2}], [{"sku": "B-7", "quantity": 1}]),
        ),
        Case("wave12.data.shapes.arrow_bytes", "schema_mismatch", _raises(typed_rows, [{"sku": 1041, "qty": 2}])),
        Case(
            "wave12.data.shapes.arrow_field",
            "schema_mismatch",
            _raises(order_column, [{"sku": "A-1", "qty": 2}], "quantity"),
        ),
        Case(
            "wave12.data.shapes.pandas_length",
            "schema_mismatch",
            _raises(label_columns, [["A-1", 2]], ["sku", "qty", "price"]),
        ),
        Case(
            "wave12.data.shapes.pandas_merge",
            "schema_mismatch",
            _raises(join_orders, {"order_id": [1041], "sku": ["A-1"]}, {"order_id": ["1041"], "paid": [True]}),
        ),
        Case("wave12.data.shapes.pandas_numeric", "schema_mismatch", _raises(quantities, ["2", "a few"])),
        Case("wave12.data.shapes.numpy_ragged", "schema_mismatch", _raises(score_matrix, [[0.1, 0.9], [0.4]])),
        Case("wave12.data.shapes.numpy_broadcast", "schema_mismatch", _raises(weighted, [0.1, 0.9], [1.0, 2.0, 3.0])),
        Case("wave12.data.shapes.int_subscript", "schema_mismatch", _raises(line_total, 19)),
        Case(
            "wave12.data.shapes.merge_keys",
            "schema_mismatch",
            _raises(attach_payments, {"order_id": [1041]}, {"order_id": [1041, 1041], "paid": [9.5, 3.0]}),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# missing data: empty inputs where results were expected, in statistics', pandas' and pyarrow's words
# --------------------------------------------------------------------------------------------------


def latency_spread(samples: list[float]) -> float:
    return statistics.geometric_mean(samples)


def import_export(text: str) -> Any:
    return pandas.read_csv(io.StringIO(text))


def audit_sample(rows: list[dict[str, Any]]) -> Any:
    return pandas.DataFrame(rows).sample(3)


def merged_batches(tables: list[Any]) -> Any:
    return pyarrow.concat_tables(tables)


def _absent_cases() -> list[Case]:
    return [
        Case("wave12.data.absent.geometric_mean", "missing_data", _raises(latency_spread, [])),
        Case("wave12.data.absent.empty_export", "missing_data", _raises(import_export, "")),
        Case("wave12.data.absent.sample_empty", "missing_data", _raises(audit_sample, [])),
        Case("wave12.data.absent.no_tables", "missing_data", _raises(merged_batches, [])),
    ]


# --------------------------------------------------------------------------------------------------
# corrupted data: packed values and tokenizer files the reader cannot read
# --------------------------------------------------------------------------------------------------


def frame_header(raw: bytes) -> tuple[Any, ...]:
    return struct.unpack_from("<QI", raw, 0)


def frame_records(raw: bytes) -> list[tuple[Any, ...]]:
    return list(struct.iter_unpack("<I", raw))


def tokenizer_of(text: str) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_str(text)


def hex_digest(text: str) -> bytes:
    return base64.b16decode(text)


_WORDPIECE_TOKENIZER = (
    '{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,'
    ' "pre_tokenizer": null, "post_processor": null, "decoder": null, "model": {"type": "WordPiece", "vocab": 3}}'
)


def _stored_cases() -> list[Case]:
    return [
        Case("wave12.data.stored.unpack_from", "corrupted_data", _raises(frame_header, b"\x00\x01\x02\x03")),
        Case("wave12.data.stored.iter_unpack", "corrupted_data", _raises(frame_records, b"\x00" * 10)),
        Case("wave12.data.stored.tokenizer_field", "corrupted_data", _raises(tokenizer_of, _WORDPIECE_TOKENIZER)),
        Case("wave12.data.stored.base16", "corrupted_data", _raises(hex_digest, "9F86D08Z")),
    ]
