#!/usr/bin/env python3
"""Parses an XML file as strictly as CI test-report readers do (expat: well-formed XML 1.0, UTF-8,
only characters XML allows) and prints its tree as JSON for the tests to check:
{"tag": ..., "attrib": {...}, "text": ..., "children": [...]}. Exit 1 with the parser's complaint
when the file is not well-formed."""
import json
import sys
import xml.etree.ElementTree as ET


def node(element):
    return {
        "tag": element.tag,
        "attrib": dict(element.attrib),
        "text": element.text or "",
        "children": [node(child) for child in element],
    }


def main():
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except ET.ParseError as err:
        print(f"not well-formed XML: {err}", file=sys.stderr)
        return 1
    json.dump(node(root), sys.stdout, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
