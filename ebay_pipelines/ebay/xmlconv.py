"""Safe XML parsing and an lxml-to-dict converter for Trading API payloads."""

from __future__ import annotations

from typing import Any

from lxml import etree

NS = "urn:ebay:apis:eBLBaseComponents"
NSMAP = {"e": NS}


def make_parser() -> etree.XMLParser:
    """Return a parser that never fetches anything, never expands entities and refuses huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(content: bytes) -> etree._Element:
    """Parse a Trading response body; raises ``etree.XMLSyntaxError`` (or ValueError) when malformed."""
    if not content or not content.strip():
        raise ValueError("empty XML document")
    root = etree.fromstring(content, parser=make_parser())
    if root is None:
        raise ValueError("empty XML document")
    return root


def local_name(tag: object) -> str:
    """Return ``tag`` without its ``{namespace}`` prefix."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def element_to_dict(element: etree._Element) -> dict[str, Any]:
    """Convert an element into a JSON-able dict that keeps every child, attribute and text.

    Children become keys (local names, in document order); a child name occurring more than
    once becomes a list; attributes become ``@name``; text beside attributes or children
    becomes ``#text``. Leaf children become their text (``""`` when empty).
    """
    value = _convert(element)
    if isinstance(value, dict):
        return value
    return {"#text": value}


def _convert(element: etree._Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    attributes = {f"@{local_name(k)}": v for k, v in element.attrib.items()}
    if not children and not attributes:
        return element.text if element.text is not None else ""
    result: dict[str, Any] = dict(attributes)
    for child in children:
        key = local_name(child.tag)
        value = _convert(child)
        if key in result:
            existing = result[key]
            if isinstance(existing, list):
                existing.append(value)
            else:
                result[key] = [existing, value]
        else:
            result[key] = value
    text = (element.text or "").strip()
    if text:
        result["#text"] = element.text if not children else text
    return result


def q(name: str) -> str:
    """Return the Clark-notation name of ``name`` in the eBLBaseComponents namespace."""
    return f"{{{NS}}}{name}"


def find(element: etree._Element, path: str) -> etree._Element | None:
    """Find the first descendant at slash-separated ``path`` of namespaced local names."""
    return element.find("/".join(f"e:{p}" for p in path.split("/")), namespaces=NSMAP)


def findall(element: etree._Element, path: str) -> list[etree._Element]:
    """Find every descendant at slash-separated ``path`` of namespaced local names."""
    return element.findall("/".join(f"e:{p}" for p in path.split("/")), namespaces=NSMAP)


def findtext(element: etree._Element, path: str) -> str | None:
    """Return the text at ``path`` (None when the element is absent)."""
    found = find(element, path)
    return None if found is None else (found.text or "")
