"""Fixtures for the simulator tests: a running simulator, an HTTP client, and spec checkers."""

from __future__ import annotations

import base64
import copy
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SPECS = Path(__file__).parent / "specs"
NS = "urn:ebay:apis:eBLBaseComponents"


def iso(dt: datetime) -> str:
    """eBay's filter timestamp format."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class Api:
    """A tiny eBay client over real HTTP used by the tests."""

    def __init__(self, sim: EbaySimulator, account: str = "acct-1") -> None:
        self.sim = sim
        self.account = account
        self.session = requests.Session()
        self.token = self.grant().json()["access_token"]

    def basic(self) -> str:
        raw = f"{self.sim.client_id}:{self.sim.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def grant(self, refresh_token: str | None = None, authorization: str | None = None) -> requests.Response:
        """Refresh with no ``scope``: eBay answers with every scope the account consented to (README Wire facts
        "OAuth scopes"), so the token may call every API the simulator serves."""
        return self.session.post(
            self.sim.base_url + "/identity/v1/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token or self.sim.refresh_token_for(self.account),
            },
            headers={
                "Authorization": authorization or self.basic(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            timeout=10,
        )

    def get(
        self, path: str, params: dict | list | None = None, scheme: str = "Bearer", token: str | None = None
    ) -> requests.Response:
        url = path if path.startswith("http") else self.sim.base_url + path
        for attempt in range(2):
            resp = self.session.get(
                url,
                params=params,
                timeout=10,
                headers={
                    "Authorization": f"{scheme} {token or self.token}",
                    "X-EBAY-C-MARKETPLACE-ID": "EBAY_US",
                    "Accept": "application/json",
                },
            )
            if resp.status_code != 401 or token is not None or attempt:
                return resp
            self.token = self.grant().json()["access_token"]  # the simulated clock moved past expiry
        return resp

    def get_all(self, path: str, params: dict | list, items_key: str) -> list[dict]:
        """Follow ``next`` links and concatenate the item arrays."""
        out: list[dict] = []
        resp = self.get(path, params)
        while True:
            assert resp.status_code == 200, resp.text
            body = resp.json()
            out.extend(body.get(items_key, []))
            if "next" not in body:
                return out
            resp = self.get(body["next"])

    def trading(self, call: str, inner: str, token: str | None = None) -> requests.Response:
        body = f'<?xml version="1.0" encoding="utf-8"?><{call}Request xmlns="{NS}">{inner}</{call}Request>'
        return self.session.post(
            self.sim.base_url + "/ws/api.dll",
            data=body.encode(),
            timeout=10,
            headers={
                "X-EBAY-API-CALL-NAME": call,
                "X-EBAY-API-SITEID": "0",
                "X-EBAY-API-COMPATIBILITY-LEVEL": "1379",
                "X-EBAY-API-IAF-TOKEN": token or self.token,
                "Content-Type": "text/xml",
            },
        )


def xml_root(resp: requests.Response) -> ET.Element:
    """Parse a Trading response."""
    return ET.fromstring(resp.content)


def xfind(elem: ET.Element, path: str) -> ET.Element | None:
    """Find with the Trading namespace applied to every step."""
    return elem.find("/".join(f"{{{NS}}}{p}" for p in path.split("/")))


def xfindall(elem: ET.Element, path: str) -> list[ET.Element]:
    return elem.findall("/".join(f"{{{NS}}}{p}" for p in path.split("/")))


@pytest.fixture
def sim() -> Iterator[EbaySimulator]:
    with EbaySimulator(SimulatorConfig(seed=7, now=NOW)) as s:
        yield s


@pytest.fixture
def api(sim: EbaySimulator) -> Api:
    return Api(sim)


# ---------------------------------------------------------------------- OpenAPI conformance
#: Keys eBay's production answers carry that its contracts do not declare: component -> {key: source}.
WIRE_ONLY: dict[str, dict[str, str]] = {
    "Transaction": {"ebayCollectedTaxAmount": 'README "Wire facts": Finances ebayCollectedTaxAmount'},
}


class OpenApiChecker:
    """Validates wire objects against a component schema of an OpenAPI 3.0 document.

    Besides OAS30 validation (with the whole document as the $ref resolution root), every key
    emitted must be a declared property, recursively (OpenAPI allows extras by default), or one
    eBay is seen sending although its contract misses it (:data:`WIRE_ONLY`).
    """

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.registry = Registry().with_resource("urn:spec", Resource.from_contents(spec, default_specification=DRAFT4))
        self._validators: dict[str, OAS30Validator] = {}

    def _resolve(self, schema: dict) -> tuple[dict, str]:
        name = ""
        while "$ref" in schema:
            node = self.spec
            name = schema["$ref"].rsplit("/", 1)[-1]
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema, name

    def undeclared(self, schema: dict, data: object, path: str = "$") -> list[str]:
        schema, name = self._resolve(schema)
        wire_only = WIRE_ONLY.get(name, {})
        problems: list[str] = []
        if isinstance(data, dict):
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            if props is None and not isinstance(extra, dict):
                return [f"{path}: object where the schema declares no properties"]
            for key, value in data.items():
                if props is not None and key in props:
                    problems += self.undeclared(props[key], value, f"{path}.{key}")
                elif isinstance(extra, dict):
                    problems += self.undeclared(extra, value, f"{path}.{key}")
                elif key not in wire_only:
                    problems.append(f"{path}.{key}: not declared")
        elif isinstance(data, list):
            for i, value in enumerate(data):
                problems += self.undeclared(schema.get("items", {}), value, f"{path}[{i}]")
        return problems

    def check(self, component: str, data: object) -> None:
        validator = self._validators.get(component)
        if validator is None:
            validator = OAS30Validator({"$ref": f"urn:spec#/components/schemas/{component}"}, registry=self.registry)
            self._validators[component] = validator
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, f"{component}: {errors[:5]}"
        extra = self.undeclared({"$ref": f"#/components/schemas/{component}"}, data)
        assert not extra, f"{component}: {extra[:5]}"


def _load(name: str) -> dict:
    return json.loads((SPECS / name).read_text())


@pytest.fixture(scope="session")
def fulfillment_spec() -> OpenApiChecker:
    return OpenApiChecker(_load("sell_fulfillment_v1_oas3.json"))


@pytest.fixture(scope="session")
def finances_spec() -> OpenApiChecker:
    return OpenApiChecker(_load("sell_finances_v1_oas3.json"))


@pytest.fixture(scope="session")
def inventory_spec() -> OpenApiChecker:
    spec = copy.deepcopy(_load("sell_inventory_v1_oas3.json"))
    # The published contract types Product.aspects as a string, while its own description (and the
    # live API) use a JSON object of name -> [values]; validate that wire shape.
    spec["components"]["schemas"]["Product"]["properties"]["aspects"] = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    return OpenApiChecker(spec)


class PostOrderChecker:
    """Validates Post-Order payloads against the project's JSON Schema (2020-12)."""

    def __init__(self) -> None:
        self.doc = _load("post_order_v2.schema.json")
        Draft202012Validator.check_schema(self.doc)

    def check(self, definition: str, data: object) -> None:
        schema = {**self.doc, "$ref": f"#/$defs/{definition}"}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(data)]
        assert not errors, f"{definition}: {errors[:5]}"


@pytest.fixture(scope="session")
def postorder_spec() -> PostOrderChecker:
    return PostOrderChecker()


# ---------------------------------------------------------------------- Trading conformance
_XS_PATTERNS = {
    "xs:int": r"-?\d+",
    "xs:long": r"-?\d+",
    "xs:boolean": r"true|false",
    "xs:dateTime": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
    "xs:double": r"-?\d+(\.\d+)?",
    "xs:decimal": r"-?\d+(\.\d+)?",
    "xs:float": r"-?\d+(\.\d+)?",
    "xs:duration": r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?",
}


class TradingChecker:
    """Checks that every element is a declared child of its parent's type, in declared order."""

    def __init__(self) -> None:
        doc = _load("trading_schema_v1379.json")
        self.types, self.enums, self.calls = doc["types"], doc["enums"], doc["calls"]

    def elements(self, type_name: str) -> list[dict]:
        t = self.types[type_name]
        base = self.elements(t["extends"]) if t.get("extends") else []
        return base + t.get("elements", [])

    def check(self, call: str, payload: bytes) -> None:
        root = ET.fromstring(payload)
        info = self.calls[call]
        assert root.tag == f"{{{NS}}}{info['response_root']}", root.tag
        problems: list[str] = []
        self._complex(root, info["response_type"], info["response_root"], problems)
        assert not problems, problems[:10]

    def _complex(self, elem: ET.Element, type_name: str, path: str, problems: list[str]) -> None:
        t = self.types[type_name]
        declared_attrs = {a["name"] for a in t.get("attributes", [])}
        for attr in elem.attrib:
            if attr not in declared_attrs:
                problems.append(f"{path}/@{attr}: not declared")
        if "simpleContent" in t:
            if len(elem):
                problems.append(f"{path}: children in simple content")
            self._simple(elem, t["simpleContent"], path, problems)
            return
        decls = self.elements(type_name)
        pos, last = 0, None
        for child in elem:
            if not child.tag.startswith(f"{{{NS}}}"):
                problems.append(f"{path}/{child.tag}: wrong namespace")
                continue
            name = child.tag.split("}", 1)[1]
            if last is not None and decls[last]["name"] == name:
                if not decls[last].get("repeated"):
                    problems.append(f"{path}/{name}: repeated but not declared repeated")
                j = last
            else:
                j = next((k for k in range(pos, len(decls)) if decls[k]["name"] == name), None)
                if j is None:
                    where = "out of order" if any(d["name"] == name for d in decls) else "not declared"
                    problems.append(f"{path}/{name}: {where} in {type_name}")
                    continue
            decl, pos, last = decls[j], j + 1, j
            sub = f"{path}/{name}"
            if decl.get("wrapper"):
                item = decl["item"]
                for grandchild in child:
                    if grandchild.tag != f"{{{NS}}}{item['name']}":
                        problems.append(f"{sub}/{grandchild.tag}: expected {item['name']}")
                    else:
                        self._value(grandchild, item["type"], f"{sub}/{item['name']}", problems)
            else:
                self._value(child, decl["type"], sub, problems)

    def _value(self, elem: ET.Element, type_name: str, path: str, problems: list[str]) -> None:
        if type_name in self.types:
            self._complex(elem, type_name, path, problems)
        else:
            if len(elem):
                problems.append(f"{path}: children in a simple element")
            self._simple(elem, type_name, path, problems)

    def _simple(self, elem: ET.Element, type_name: str, path: str, problems: list[str]) -> None:
        text = (elem.text or "").strip()
        if type_name in self.enums:
            if text not in self.enums[type_name]:
                problems.append(f"{path}: {text!r} not in {type_name}")
        elif type_name in _XS_PATTERNS and not re.fullmatch(_XS_PATTERNS[type_name], text):
            problems.append(f"{path}: {text!r} is not {type_name}")


@pytest.fixture(scope="session")
def trading_spec() -> TradingChecker:
    return TradingChecker()
